//! Access tokens: HS256-signed JWTs that name the user, the session and an expiry.
//!
//! Only HS256 is accepted when verifying, so `alg: none` and algorithm-confusion tokens fail.
//! Expiry and "not before" (`nbf`, when a token carries one) are checked against the application's
//! clock rather than the library's, with no leeway.
//!
//! Signing is deterministic: the same claims sign to the same token. A refresh repeated within the
//! grace window re-signs the claims of the rotation it repeats, so every caller holds one pair.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use reserva_application::DependencyError;
use reserva_application::ports::security::{AccessClaims, AccessTokenCodec, InvalidAccessToken};
use reserva_domain::accounts::{Role, SessionId, UserId};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

const ISSUER: &str = "reserva";
const AUDIENCE: &str = "reserva-api";

/// Signs and verifies access tokens with one shared secret.
#[derive(Clone)]
pub struct JwtAccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// The signing secret is shorter than HS256's 32-byte key size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the JWT signing secret must be at least 32 bytes")]
pub struct WeakSigningSecret;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    role: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    /// Not before: this service never sets it, but a token that carries one is refused until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

impl JwtAccessTokens {
    /// Uses `secret` (at least 32 bytes) for HS256.
    ///
    /// # Errors
    /// [`WeakSigningSecret`] for a shorter secret.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSigningSecret> {
        if secret.len() < 32 {
            return Err(WeakSigningSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }
}

impl AccessTokenCodec for JwtAccessTokens {
    fn issue(&self, claims: &AccessClaims) -> Result<String, DependencyError> {
        let claims = Claims {
            sub: claims.user_id.as_uuid(),
            sid: claims.session_id.as_uuid(),
            role: claims.role.as_str().to_owned(),
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            nbf: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| DependencyError::Failed(format!("signing access token: {error}")))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, InvalidAccessToken> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| InvalidAccessToken::Malformed)?;
        let claims = data.claims;
        let role: Role = claims
            .role
            .parse()
            .map_err(|_| InvalidAccessToken::Malformed)?;
        let expires_at =
            DateTime::from_timestamp(claims.exp, 0).ok_or(InvalidAccessToken::Malformed)?;
        let issued_at =
            DateTime::from_timestamp(claims.iat, 0).ok_or(InvalidAccessToken::Malformed)?;
        if expires_at <= now {
            return Err(InvalidAccessToken::Expired);
        }
        if claims
            .nbf
            .is_some_and(|not_before| not_before > now.timestamp())
        {
            return Err(InvalidAccessToken::NotYetValid);
        }
        Ok(AccessClaims {
            user_id: UserId::from_uuid(claims.sub),
            session_id: SessionId::from_uuid(claims.sid),
            role,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::Duration;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(now: DateTime<Utc>) -> AccessClaims {
        AccessClaims {
            user_id: UserId::from_uuid(Uuid::now_v7()),
            session_id: SessionId::from_uuid(Uuid::now_v7()),
            role: Role::Tutor,
            issued_at: DateTime::from_timestamp(now.timestamp(), 0).expect("valid"),
            expires_at: DateTime::from_timestamp(now.timestamp() + 900, 0).expect("valid"),
        }
    }

    #[test]
    fn round_trips_until_expiry() {
        let codec = JwtAccessTokens::new(SECRET).expect("secret long enough");
        let now = Utc::now();
        let original = claims(now);
        let token = codec.issue(&original).expect("sign");
        assert_eq!(codec.verify(&token, now), Ok(original.clone()));
        let at_expiry = original.expires_at;
        assert_eq!(
            codec.verify(&token, at_expiry),
            Err(InvalidAccessToken::Expired)
        );
        assert!(
            codec
                .verify(&token, at_expiry - Duration::seconds(1))
                .is_ok()
        );
    }

    #[test]
    fn refuses_other_keys_tampering_and_alg_none() {
        let codec = JwtAccessTokens::new(SECRET).expect("secret");
        let other = JwtAccessTokens::new(b"another-secret-of-at-least-32-bytes!").expect("secret");
        let now = Utc::now();
        let token = codec.issue(&claims(now)).expect("sign");
        assert_eq!(
            other.verify(&token, now),
            Err(InvalidAccessToken::Malformed)
        );

        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        payload["role"] = "admin".into();
        let forged = URL_SAFE_NO_PAD.encode(payload.to_string());
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            codec.verify(&tampered, now),
            Err(InvalidAccessToken::Malformed)
        );

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            codec.verify(&unsigned, now),
            Err(InvalidAccessToken::Malformed)
        );
        assert_eq!(
            codec.verify("garbage", now),
            Err(InvalidAccessToken::Malformed)
        );
    }

    #[test]
    fn a_token_is_refused_before_its_nbf() {
        let codec = JwtAccessTokens::new(SECRET).expect("secret");
        let now = Utc::now();
        let token = codec.issue(&claims(now)).expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        let not_before = now.timestamp() + 60;
        payload["nbf"] = not_before.into();
        let key = EncodingKey::from_secret(SECRET);
        let early = encode(&Header::new(Algorithm::HS256), &payload, &key).expect("sign");
        assert_eq!(
            codec.verify(&early, now),
            Err(InvalidAccessToken::NotYetValid)
        );
        let from = DateTime::from_timestamp(not_before, 0).expect("valid");
        assert!(codec.verify(&early, from).is_ok(), "valid from its nbf on");
    }

    #[test]
    fn the_same_claims_sign_to_the_same_token() {
        let codec = JwtAccessTokens::new(SECRET).expect("secret");
        let original = claims(Utc::now());
        assert_eq!(codec.issue(&original), codec.issue(&original));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtAccessTokens::new(b"short").is_err());
    }
}
