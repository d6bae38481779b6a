//! Users: written and read back, unique by e-mail and case-insensitive username, listed with a
//! keyset cursor, and updated field by field.

use super::{AccountStore, insert};
use crate::support::{new_user, now, tag, user_id};
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::accounts::{
    RevokeSessions, UserChanges, UserQuery, UserWriteError,
};
use reserva_domain::accounts::{Email, PasswordHash, Role, User, Username};
use reserva_domain::paging::PageLimit;

fn query(limit: i64) -> UserQuery {
    UserQuery {
        role: None,
        search: None,
        before: None,
        limit: PageLimit::new(limit).unwrap_or_default(),
    }
}

/// A user reads back exactly as written, by id, by e-mail and with credentials.
pub async fn inserted_user_is_found_by_id_email_and_credentials<S: AccountStore>(store: &S) {
    let name = format!("ann{}", tag());
    let new = new_user(&name, Role::Tutor);
    let inserted = store.insert_user(new.clone()).await;
    let Ok(user) = inserted else {
        panic!("insert failed: {inserted:?}")
    };
    assert_eq!(user.id, new.id);
    assert_eq!(user.email, new.email);
    assert_eq!(user.username, new.username);
    assert_eq!(user.role, Role::Tutor);
    assert!(user.is_active);
    assert_eq!((user.created_at, user.updated_at), (new.now, new.now));
    assert_eq!(store.find_user(new.id).await, Ok(Some(user.clone())));
    let by_email = store.find_credentials_by_email(&new.email).await;
    let by_email = by_email
        .ok()
        .flatten()
        .map(|found| (found.user, found.password_hash));
    assert_eq!(by_email, Some((user.clone(), new.password_hash.clone())));
    let by_id = store
        .find_credentials(new.id)
        .await
        .ok()
        .flatten()
        .map(|c| c.password_hash);
    assert_eq!(by_id, Some(new.password_hash));
}

/// Unknown ids and e-mails are `None`, not errors.
pub async fn missing_users_are_none<S: AccountStore>(store: &S) {
    assert_eq!(store.find_user(user_id()).await, Ok(None));
    assert!(matches!(store.find_credentials(user_id()).await, Ok(None)));
    let Ok(email) = Email::parse("nobody-here@example.com") else {
        panic!("valid e-mail")
    };
    assert!(matches!(
        store.find_credentials_by_email(&email).await,
        Ok(None)
    ));
}

/// A second user with the same e-mail is refused.
pub async fn duplicate_email_is_email_taken<S: AccountStore>(store: &S) {
    let name = format!("bob{}", tag());
    insert(store, &name, Role::Member).await;
    let mut twin = new_user(&format!("other{}", tag()), Role::Member);
    twin.email = new_user(&name, Role::Member).email;
    assert_eq!(
        store.insert_user(twin).await.err(),
        Some(UserWriteError::EmailTaken)
    );
}

/// Usernames are unique regardless of case.
pub async fn duplicate_username_is_taken_case_insensitively<S: AccountStore>(store: &S) {
    let name = format!("cat{}", tag());
    insert(store, &name, Role::Member).await;
    let mut twin = new_user(&format!("dog{}", tag()), Role::Member);
    let Ok(upper) = Username::parse(&name.to_uppercase()) else {
        panic!("valid username")
    };
    twin.username = upper;
    assert_eq!(
        store.insert_user(twin).await.err(),
        Some(UserWriteError::UsernameTaken)
    );
}

/// Eight simultaneous signups with one e-mail: exactly one succeeds, the rest are `EmailTaken`.
pub async fn concurrent_duplicate_signups_let_exactly_one_in<S: AccountStore>(store: &S) {
    let email = new_user(&format!("eve{}", tag()), Role::Member).email;
    let attempts = (0..8).map(|_| {
        let mut new = new_user(&format!("eve{}", tag()), Role::Member);
        new.email = email.clone();
        store.insert_user(new)
    });
    let results = join_all(attempts).await;
    let won = results.iter().filter(|result| result.is_ok()).count();
    let taken = results
        .iter()
        .filter(|r| r.as_ref().err() == Some(&UserWriteError::EmailTaken));
    assert_eq!((won, taken.count()), (1, 7), "{results:?}");
}

/// Newest first, `limit + 1` rows, and `before` continues exactly where a page ended.
pub async fn users_are_listed_newest_first_with_a_keyset_cursor<S: AccountStore>(store: &S) {
    let prefix = format!("page{}", tag());
    let mut ids = Vec::new();
    for index in 0..5 {
        ids.push(
            insert(store, &format!("{prefix}{index}"), Role::Member)
                .await
                .id,
        );
    }
    ids.reverse();
    let mut first = query(2);
    first.search = Some(prefix.clone());
    let page = store.list_users(&first).await.unwrap_or_default();
    assert_eq!(page.iter().map(|u| u.id).collect::<Vec<_>>(), ids[..3]);
    let second = UserQuery {
        before: Some(ids[1]),
        ..first.clone()
    };
    let page = store.list_users(&second).await.unwrap_or_default();
    assert_eq!(page.iter().map(|u| u.id).collect::<Vec<_>>(), ids[2..5]);
    let last = UserQuery {
        before: Some(ids[4]),
        ..first
    };
    assert_eq!(store.list_users(&last).await, Ok(vec![]));
}

/// Role filter, and search that is case-insensitive and treats `%` and `_` literally.
pub async fn user_list_filters_by_role_and_literal_search<S: AccountStore>(store: &S) {
    let prefix = format!("flt{}", tag());
    let tutor = insert(store, &format!("{prefix}_tutor"), Role::Tutor).await;
    let member = insert(store, &format!("{prefix}member"), Role::Member).await;
    let mut tutors = query(100);
    tutors.search = Some(prefix.to_uppercase());
    tutors.role = Some(Role::Tutor);
    let found = store.list_users(&tutors).await.unwrap_or_default();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [tutor.id]);
    let mut by_email = query(100);
    by_email.search = Some(format!("{prefix}member@EXAMPLE"));
    let found = store.list_users(&by_email).await.unwrap_or_default();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [member.id]);
    let mut wildcard = query(100);
    wildcard.search = Some(format!("{prefix}%"));
    assert_eq!(store.list_users(&wildcard).await, Ok(vec![]));
    wildcard.search = Some(format!("{prefix}_"));
    let found = store.list_users(&wildcard).await.unwrap_or_default();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [tutor.id]);
}

/// Only the given fields change, and `updated_at` moves to `now`.
pub async fn update_changes_only_the_given_fields<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("upd{}", tag()), Role::Member).await;
    let Ok(username) = Username::parse(&format!("renamed{}", tag())) else {
        panic!("valid")
    };
    let later = now() + Duration::seconds(5);
    let changes = UserChanges {
        username: Some(username.clone()),
        password_hash: Some(PasswordHash::from_phc("$new".into())),
        role: Some(Role::Admin),
        is_active: Some(false),
    };
    let updated = store
        .update_user(user.id, &changes, RevokeSessions::None, later)
        .await;
    let Ok(updated) = updated else {
        panic!("update failed: {updated:?}")
    };
    let expected = User {
        username,
        role: Role::Admin,
        is_active: false,
        updated_at: later,
        ..user.clone()
    };
    assert_eq!(updated.user, expected);
    assert_eq!(store.find_user(user.id).await, Ok(Some(expected)));
    let hash = store
        .find_credentials(user.id)
        .await
        .ok()
        .flatten()
        .map(|c| c.password_hash);
    assert_eq!(hash, Some(PasswordHash::from_phc("$new".into())));
    let reactivate = UserChanges {
        is_active: Some(true),
        ..UserChanges::default()
    };
    let again = store
        .update_user(user.id, &reactivate, RevokeSessions::None, later)
        .await;
    assert_eq!(
        again.map(|u| (u.user.is_active, u.user.role)),
        Ok((true, Role::Admin))
    );
}

/// A taken username is refused and nothing else in the same update is applied.
pub async fn update_to_a_taken_username_changes_nothing<S: AccountStore>(store: &S) {
    let taken = insert(store, &format!("tkn{}", tag()), Role::Member).await;
    let user = insert(store, &format!("usr{}", tag()), Role::Member).await;
    let changes = UserChanges {
        username: Some(taken.username.clone()),
        role: Some(Role::Admin),
        ..UserChanges::default()
    };
    let result = store
        .update_user(user.id, &changes, RevokeSessions::None, now())
        .await;
    assert_eq!(result.err(), Some(UserWriteError::UsernameTaken));
    assert_eq!(store.find_user(user.id).await, Ok(Some(user)));
}

/// Updating an id nobody has is `NotFound`.
pub async fn update_of_an_unknown_user_is_not_found<S: AccountStore>(store: &S) {
    let changes = UserChanges {
        role: Some(Role::Admin),
        ..UserChanges::default()
    };
    let result = store
        .update_user(user_id(), &changes, RevokeSessions::All, now())
        .await;
    assert_eq!(result.err(), Some(UserWriteError::NotFound));
}
