//! The bearer-token extractors: a handler that takes [`Authenticated`] only runs for a valid
//! token, one that takes [`Administrator`] only for an administrator's.

use crate::errors::ApiError;
use crate::state::ApiState;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use reserva_application::accounts::{AdminUserError, Principal};
use std::future::Future;
use std::pin::Pin;

/// The authenticated caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated(pub Principal);

fn bearer_token(request: &HttpRequest) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "send an access token as 'Authorization: Bearer <token>'",
        )
    };
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token.to_owned())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<ApiState>>().cloned();
        let token = bearer_token(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "state missing",
                )
            })?;
            let principal = state.accounts.authenticate(&token?).await?;
            tracing::Span::current().record("user_id", tracing::field::display(principal.user_id));
            Ok(Self(principal))
        })
    }
}

/// An authenticated administrator. Admin-only routes take it first, so a caller who is not one
/// hears 403 before anything else about the request (its path, query or body) is read, and
/// cannot probe an admin route's validation. The use cases check the role again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Administrator(pub Principal);

impl FromRequest for Administrator {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(request, payload);
        Box::pin(async move {
            let Authenticated(principal) = authenticated.await?;
            if principal.is_admin() {
                Ok(Self(principal))
            } else {
                Err(AdminUserError::Forbidden.into())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn reads_only_well_formed_bearer_headers() {
        let token = |value: Option<&str>| {
            let mut request = TestRequest::default();
            if let Some(value) = value {
                request = request.insert_header((header::AUTHORIZATION, value));
            }
            bearer_token(&request.to_http_request()).ok()
        };
        assert_eq!(token(Some("Bearer abc")), Some("abc".to_owned()));
        assert_eq!(token(Some("bearer  abc ")), Some("abc".to_owned()));
        assert_eq!(token(Some("Basic abc")), None);
        assert_eq!(token(Some("Bearer ")), None);
        assert_eq!(token(Some("abc")), None);
        assert_eq!(token(None), None);
    }
}
