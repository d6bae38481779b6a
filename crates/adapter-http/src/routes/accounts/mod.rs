//! Accounts routes: `/auth/*`, `/users/me`, `/admin/users*`.

mod admin_users;
mod auth;
mod dto;
mod me;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every accounts endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(auth::signup)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(me::get_me)
        .service(me::update_me)
        .service(me::delete_me)
        .service(admin_users::list_users)
        .service(admin_users::get_user)
        .service(admin_users::update_user)
        .service(admin_users::delete_user);
}
