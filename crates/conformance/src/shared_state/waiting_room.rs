//! `WaitingRoom`: one place per user in arrival order, admission in that order under the
//! domain's caps, and what time does (idle waiting users, ended active periods, the rate
//! window) at the caller's `now`. The inventory copy, closing and foreign tokens are in
//! [`super::waiting_room_inventory`].

use crate::support::{now, user_id};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::future::join_all;
use reserva_application::ports::waiting_room::{
    PlaceStatus, QueuePlace, QueueToken, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, ConcertId, HoldId};
use std::time::Duration;
use uuid::Uuid;

/// The settings' defaults, with `max_active` users active at once.
pub(super) fn rules(max_active: u32) -> RoomRules {
    RoomRules {
        max_active,
        admission_margin: 10,
        active_ttl: Duration::from_secs(600),
        idle_timeout: Duration::from_secs(120),
        rate_window: Duration::from_secs(60),
    }
}

pub(super) fn concert() -> ConcertId {
    ConcertId::from_uuid(Uuid::now_v7())
}

pub(super) fn hold() -> HoldId {
    HoldId::from_uuid(Uuid::now_v7())
}

/// A fresh token, made as the application makes them.
pub(super) fn token(concert: ConcertId) -> QueueToken {
    QueueToken::new(concert, &Uuid::new_v4().simple().to_string())
}

pub(super) fn secs(seconds: i64) -> TimeDelta {
    TimeDelta::seconds(seconds)
}

/// Gives the room `unsold` seats and no holds.
pub(super) async fn open<R: WaitingRoom>(room: &R, concert: ConcertId, unsold: u32) {
    let inventory = RoomInventory {
        unsold_seats: unsold,
        holds: Vec::new(),
    };
    if let Err(error) = room.set_inventory(concert, &inventory).await {
        panic!("set_inventory: {error}");
    }
}

pub(super) async fn join<R: WaitingRoom>(
    room: &R,
    concert: ConcertId,
    user: UserId,
    at: DateTime<Utc>,
    rules: RoomRules,
) -> QueuePlace {
    room.join(concert, user, token(concert), at, rules)
        .await
        .unwrap_or_else(|error| panic!("join: {error}"))
}

pub(super) async fn poll<R: WaitingRoom>(
    room: &R,
    place: &QueuePlace,
    at: DateTime<Utc>,
    rules: RoomRules,
) -> Option<QueuePlace> {
    room.poll(&place.token, place.user_id, at, rules)
        .await
        .unwrap_or_else(|error| panic!("poll: {error}"))
}

pub(super) async fn finish<R: WaitingRoom>(
    room: &R,
    place: &QueuePlace,
    at: DateTime<Utc>,
    rules: RoomRules,
) -> bool {
    room.finish(&place.token, place.user_id, at, rules)
        .await
        .unwrap_or_else(|error| panic!("finish: {error}"))
}

pub(super) fn position(place: Option<&QueuePlace>) -> Option<u64> {
    match place?.status {
        PlaceStatus::Waiting { position } => Some(position),
        PlaceStatus::Active { .. } => None,
    }
}

pub(super) fn is_active(place: Option<&QueuePlace>) -> bool {
    place.is_some_and(|place| matches!(place.status, PlaceStatus::Active { .. }))
}

/// A second join gives the same token (and keeps the waiting place like a poll).
pub async fn rejoining_gives_the_same_token_and_counts_as_a_poll<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(1));
    open(room, concert, 10).await;
    let first = join(room, concert, user_id(), start, rules).await;
    assert!(is_active(Some(&first)), "{first:?}");
    let waiting = join(room, concert, user_id(), start, rules).await;
    assert_eq!(position(Some(&waiting)), Some(1));
    let again = join(room, concert, waiting.user_id, start + secs(100), rules).await;
    assert_eq!(again.token, waiting.token, "the same place, not a new one");
    assert_eq!(position(Some(&again)), Some(1));
    let later = poll(room, &waiting, start + secs(200), rules).await;
    assert_eq!(
        position(later.as_ref()),
        Some(1),
        "the re-join kept the place"
    );
    let active_again = join(room, concert, first.user_id, start + secs(1), rules).await;
    assert_eq!(active_again.token, first.token);
    assert_eq!(active_again.status, first.status);
}

/// Positions follow arrival, and a poll reports the same position.
pub async fn positions_follow_arrival<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(1));
    open(room, concert, 10).await;
    join(room, concert, user_id(), start, rules).await;
    let mut line = Vec::new();
    for expected in 1..=3 {
        let place = join(room, concert, user_id(), start, rules).await;
        assert_eq!(position(Some(&place)), Some(expected));
        line.push(place);
    }
    for (index, place) in line.iter().enumerate() {
        let polled = poll(room, place, start + secs(1), rules).await;
        assert_eq!(position(polled.as_ref()), Some(index as u64 + 1));
    }
}

/// 200 simultaneous joins get positions 1..=200, and the line keeps that order as it moves.
pub async fn concurrent_joins_get_distinct_positions_in_arrival_order<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(1));
    open(room, concert, 10).await;
    let first = join(room, concert, user_id(), start, rules).await;
    let joins = (0..200).map(|_| room.join(concert, user_id(), token(concert), start, rules));
    let places: Vec<QueuePlace> = join_all(joins)
        .await
        .into_iter()
        .map(|place| place.unwrap_or_else(|error| panic!("join: {error}")))
        .collect();
    let mut positions: Vec<u64> = places.iter().filter_map(|p| position(Some(p))).collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=200).collect::<Vec<u64>>());
    assert!(finish(room, &first, start + secs(1), rules).await);
    for place in &places {
        let polled = poll(room, place, start + secs(2), rules).await;
        match position(Some(place)) {
            Some(1) => assert!(is_active(polled.as_ref()), "{polled:?}"),
            Some(before) => assert_eq!(position(polled.as_ref()), Some(before - 1)),
            None => panic!("{place:?}"),
        }
    }
}

/// In an empty room the first user is active at once, for the active lifetime.
pub async fn an_empty_room_admits_at_once<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(5));
    open(room, concert, 10).await;
    let user = user_id();
    let new_token = token(concert);
    let place = room
        .join(concert, user, new_token.clone(), start, rules)
        .await;
    let Ok(place) = place else {
        panic!("join: {place:?}")
    };
    assert_eq!(place.token, new_token);
    assert_eq!(place.user_id, user);
    let until = start + secs(600);
    assert_eq!(place.status, PlaceStatus::Active { until });
    assert_eq!(place.availability, Availability::PossiblyAvailable);
    assert_eq!(place.admitted_recently, 1);
}

/// No more than `max_active` are active; a finish lets the next one in.
pub async fn active_places_are_capped_and_the_next_is_admitted_on_finish<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(2));
    open(room, concert, 10).await;
    let first = join(room, concert, user_id(), start, rules).await;
    let second = join(room, concert, user_id(), start, rules).await;
    let third = join(room, concert, user_id(), start, rules).await;
    let fourth = join(room, concert, user_id(), start, rules).await;
    assert!(is_active(Some(&first)) && is_active(Some(&second)));
    assert_eq!(position(Some(&third)), Some(1));
    assert_eq!(position(Some(&fourth)), Some(2));
    assert!(finish(room, &first, start + secs(1), rules).await);
    assert!(
        !finish(room, &first, start + secs(1), rules).await,
        "finished once"
    );
    assert_eq!(poll(room, &first, start + secs(1), rules).await, None);
    assert!(is_active(
        poll(room, &third, start + secs(2), rules).await.as_ref()
    ));
    let moved = poll(room, &fourth, start + secs(2), rules).await;
    assert_eq!(position(moved.as_ref()), Some(1));
}

/// A waiting user who stops polling loses the place; those behind move up.
pub async fn a_waiting_user_who_stops_polling_loses_the_place<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(1));
    open(room, concert, 10).await;
    let active = join(room, concert, user_id(), start, rules).await;
    let quiet = join(room, concert, user_id(), start, rules).await;
    let polling = join(room, concert, user_id(), start, rules).await;
    assert_eq!(position(Some(&polling)), Some(2));
    let kept = poll(room, &polling, start + secs(100), rules).await;
    assert_eq!(position(kept.as_ref()), Some(2));
    let moved = poll(room, &polling, start + secs(150), rules).await;
    assert_eq!(
        position(moved.as_ref()),
        Some(1),
        "the quiet user left the line"
    );
    assert_eq!(poll(room, &quiet, start + secs(150), rules).await, None);
    let back = join(room, concert, quiet.user_id, start + secs(151), rules).await;
    assert_ne!(back.token, quiet.token, "a lapsed place is not given back");
    assert_eq!(position(Some(&back)), Some(2), "at the end of the line");
    assert!(is_active(
        poll(room, &active, start + secs(151), rules).await.as_ref()
    ));
}

/// An active place ends after the active lifetime and the next user is admitted.
pub async fn an_active_place_ends_after_its_lifetime<R: WaitingRoom>(room: &R) {
    let concert = concert();
    let start = now();
    let rules = RoomRules {
        active_ttl: Duration::from_secs(60),
        ..rules(1)
    };
    open(room, concert, 10).await;
    let first = join(room, concert, user_id(), start, rules).await;
    let next = join(room, concert, user_id(), start, rules).await;
    assert!(is_active(
        poll(room, &first, start + secs(59), rules).await.as_ref()
    ));
    assert_eq!(poll(room, &first, start + secs(60), rules).await, None);
    let admitted = poll(room, &next, start + secs(60), rules).await;
    let until = start + secs(120);
    assert_eq!(
        admitted.map(|place| place.status),
        Some(PlaceStatus::Active { until })
    );
    assert!(!finish(room, &first, start + secs(61), rules).await);
}

/// `admitted_recently` counts the admissions of the last rate window only.
pub async fn admitted_recently_counts_the_rate_window<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(100));
    open(room, concert, 50).await;
    let first = join(room, concert, user_id(), start, rules).await;
    assert_eq!(first.admitted_recently, 1);
    let second = join(room, concert, user_id(), start + secs(30), rules).await;
    assert_eq!(second.admitted_recently, 2);
    let third = join(room, concert, user_id(), start + secs(61), rules).await;
    assert_eq!(
        third.admitted_recently, 2,
        "the first admission left the window"
    );
    let later = poll(room, &third, start + secs(200), rules).await;
    assert_eq!(later.map(|place| place.admitted_recently), Some(0));
}
