//! Signed provider callbacks: the JSON body of a checkout callback and its
//! `Reserva-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` header, computed over
//! `<unix seconds>.<raw body>` with the secret shared with the provider (the scheme Stripe
//! popularised). Verification is constant time, and refuses a signature more than five minutes
//! away from now either way, so a captured callback cannot be replayed later; within the
//! tolerance a replay verifies, and the store recognises it by the result already recorded.

use crate::WeakSigningSecret;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use reserva_application::ports::checkout_provider::{
    CallbackCodec, CallbackMessage, CallbackSignatureError, MalformedCallback,
};
use reserva_domain::commerce::{CallbackResult, CheckoutId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt::{self, Write as _};

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's time may be from now, either way.
pub const SIGNATURE_TOLERANCE: Duration = Duration::minutes(5);

/// The header the provider signs with.
pub const SIGNATURE_HEADER: &str = "Reserva-Signature";

/// The longest header value accepted (a real one is about 80 characters).
const MAX_HEADER_LEN: usize = 256;

/// Signs and verifies callbacks with the provider secret.
#[derive(Clone)]
pub struct HmacCallbacks {
    key: HmacSha256,
}

impl fmt::Debug for HmacCallbacks {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("HmacCallbacks { key: [redacted] }")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    payment_id: uuid::Uuid,
    result: String,
    reference: String,
}

impl HmacCallbacks {
    /// A codec over `secret` (at least 32 bytes).
    ///
    /// # Errors
    /// [`WeakSigningSecret`] for a shorter secret.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSigningSecret> {
        if secret.len() < 32 {
            return Err(WeakSigningSecret);
        }
        let key = HmacSha256::new_from_slice(secret).map_err(|_| WeakSigningSecret)?;
        Ok(Self { key })
    }

    fn mac(&self, unix: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(unix.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// `t` and the `v1` bytes of a header, or `None` when it is malformed: exactly the two parts,
/// in this order, `t` a decimal number without leading zeros, `v1` 64 lower-case hex digits.
fn parse_header(header: &str) -> Option<(i64, Vec<u8>)> {
    if header.len() > MAX_HEADER_LEN {
        return None;
    }
    let (t, v1) = header.split_once(',')?;
    let t = t.strip_prefix("t=")?;
    let v1 = v1.strip_prefix("v1=")?;
    // canonical decimal only (no leading zero): the MAC covers the number as printed, so the
    // header cannot be rewritten without breaking it
    let canonical = t == "0" || !t.starts_with('0');
    if t.is_empty() || t.len() > 12 || !canonical || !t.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    if v1.len() != 64 {
        return None;
    }
    let mut bytes = Vec::with_capacity(32);
    for pair in v1.as_bytes().chunks(2) {
        let digit = |byte: u8| match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            _ => None,
        };
        bytes.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    Some((t.parse().ok()?, bytes))
}

impl CallbackCodec for HmacCallbacks {
    fn encode(&self, message: &CallbackMessage) -> Vec<u8> {
        let wire = Wire {
            payment_id: message.checkout_id.as_uuid(),
            result: message.result.as_str().to_owned(),
            reference: message.reference.clone(),
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    fn decode(&self, body: &[u8]) -> Result<CallbackMessage, MalformedCallback> {
        let wire: Wire =
            serde_json::from_slice(body).map_err(|error| MalformedCallback(error.to_string()))?;
        let result = CallbackResult::parse(&wire.result)
            .ok_or_else(|| MalformedCallback(format!("unknown result {:?}", wire.result)))?;
        if wire.reference.is_empty()
            || wire.reference.len() > 200
            || wire.reference.chars().any(char::is_control)
        {
            return Err(MalformedCallback("invalid reference".to_owned()));
        }
        Ok(CallbackMessage {
            checkout_id: CheckoutId::from_uuid(wire.payment_id),
            result,
            reference: wire.reference,
        })
    }

    fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        let unix = at.timestamp();
        let digest = self.mac(unix, body).finalize().into_bytes();
        let mut header = format!("t={unix},v1=");
        for byte in digest {
            let _ = write!(header, "{byte:02x}");
        }
        header
    }

    fn verify(
        &self,
        body: &[u8],
        header: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CallbackSignatureError> {
        let (unix, signature) = parse_header(header).ok_or(CallbackSignatureError::Invalid)?;
        self.mac(unix, body)
            .verify_slice(&signature)
            .map_err(|_| CallbackSignatureError::Invalid)?;
        let signed_at =
            DateTime::<Utc>::from_timestamp(unix, 0).ok_or(CallbackSignatureError::Stale)?;
        if (now - signed_at).abs() > SIGNATURE_TOLERANCE {
            return Err(CallbackSignatureError::Stale);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"provider secret of at least 32 bytes!";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn codec() -> HmacCallbacks {
        HmacCallbacks::new(SECRET).expect("long enough")
    }

    fn message() -> CallbackMessage {
        CallbackMessage {
            checkout_id: CheckoutId::from_uuid(uuid::Uuid::now_v7()),
            result: CallbackResult::Approved,
            reference: "sim_0123".to_owned(),
        }
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(HmacCallbacks::new(&SECRET[..31]).is_err());
        assert!(HmacCallbacks::new(&SECRET[..32]).is_ok());
    }

    #[test]
    fn a_signed_body_verifies_and_again_when_replayed() {
        let codec = codec();
        let body = codec.encode(&message());
        let header = codec.sign(&body, now());
        assert!(header.starts_with(&format!("t={},v1=", now().timestamp())));
        assert_eq!(codec.verify(&body, &header, now()), Ok(()));
        assert_eq!(codec.verify(&body, &header, now()), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_invalid() {
        let codec = codec();
        let body = codec.encode(&message());
        let header = codec.sign(&body, now());
        let mut tampered = body.clone();
        let at = tampered
            .windows(8)
            .position(|window| window == b"approved")
            .expect("result in the body");
        tampered.splice(at..at + 8, b"cancelled".iter().copied());
        assert_eq!(
            codec.verify(&tampered, &header, now()),
            Err(CallbackSignatureError::Invalid)
        );
        let mut extra = body;
        extra.push(b' ');
        assert_eq!(
            codec.verify(&extra, &header, now()),
            Err(CallbackSignatureError::Invalid)
        );
    }

    #[test]
    fn a_tampered_header_is_invalid() {
        let codec = codec();
        let body = codec.encode(&message());
        let header = codec.sign(&body, now());
        // another time with the same MAC
        let moved = header.replacen(
            &format!("t={}", now().timestamp()),
            &format!("t={}", now().timestamp() + 1),
            1,
        );
        assert_eq!(
            codec.verify(&body, &moved, now()),
            Err(CallbackSignatureError::Invalid)
        );
        // one hex digit changed
        let mut flipped = header.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(
            codec.verify(&body, &flipped, now()),
            Err(CallbackSignatureError::Invalid)
        );
    }

    #[test]
    fn another_secret_is_invalid() {
        let body = codec().encode(&message());
        let header = HmacCallbacks::new(b"another secret, also 32 bytes long!!")
            .expect("long enough")
            .sign(&body, now());
        assert_eq!(
            codec().verify(&body, &header, now()),
            Err(CallbackSignatureError::Invalid)
        );
    }

    #[test]
    fn the_tolerance_is_five_minutes_either_way() {
        let codec = codec();
        let body = codec.encode(&message());
        for (signed, expected) in [
            (now() - Duration::minutes(5), Ok(())),
            (now() + Duration::minutes(5), Ok(())),
            (
                now() - Duration::minutes(5) - Duration::seconds(1),
                Err(CallbackSignatureError::Stale),
            ),
            (
                now() + Duration::minutes(5) + Duration::seconds(1),
                Err(CallbackSignatureError::Stale),
            ),
        ] {
            let header = codec.sign(&body, signed);
            assert_eq!(codec.verify(&body, &header, now()), expected, "{signed}");
        }
    }

    #[test]
    fn malformed_headers_are_invalid() {
        let codec = codec();
        let body = codec.encode(&message());
        let good = codec.sign(&body, now());
        let (t, v1) = good.split_once(',').expect("two parts");
        let upper = format!("{t},{}", v1.to_uppercase().replace("V1=", "v1="));
        let long = format!("{good}{}", "0".repeat(300));
        for header in [
            "",
            "t=,v1=",
            t,
            v1,
            &format!("{v1},{t}"),
            &format!("{t},v1={}", &v1[3..v1.len() - 1]),
            &format!("{t},v1={}0", &v1[3..]),
            &format!("{t},v0={}", &v1[3..]),
            &format!("t=-1,{v1}"),
            &format!("t=1e9,{v1}"),
            // the same instant and MAC, the number padded: not the text that was signed
            &format!("t=0{},{v1}", &t[2..]),
            &format!(" {good}"),
            &format!("{good},v2=00"),
            &upper,
            &long,
        ] {
            assert_eq!(
                codec.verify(&body, header, now()),
                Err(CallbackSignatureError::Invalid),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_body_round_trips_and_strangers_are_malformed() {
        let codec = codec();
        let sent = message();
        let body = codec.encode(&sent);
        let text = String::from_utf8(body.clone()).expect("json");
        assert!(text.contains(r#""result":"approved""#), "{text}");
        assert_eq!(codec.decode(&body), Ok(sent.clone()));
        let id = sent.checkout_id;
        for bad in [
            String::new(),
            "{}".to_owned(),
            format!(r#"{{"payment_id":"{id}","result":"success","reference":"r"}}"#),
            format!(r#"{{"payment_id":"{id}","result":"approved","reference":""}}"#),
            format!(r#"{{"payment_id":"{id}","result":"approved","reference":"a\u0000b"}}"#),
            format!(r#"{{"payment_id":"{id}","result":"approved","reference":"r","amount":1}}"#),
            r#"{"payment_id":"nope","result":"approved","reference":"r"}"#.to_owned(),
        ] {
            assert!(codec.decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
