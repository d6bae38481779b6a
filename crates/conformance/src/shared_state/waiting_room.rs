//! `WaitingRoom`: one place per user in arrival order, admission in that order under the
//! domain's caps, what time does (idle waiting users, ended active periods, expired holds) at
//! the caller's `now`, the inventory copy, closing, and tokens that are not the caller's.

use crate::support::{now, user_id};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::future::join_all;
use reserva_application::ports::waiting_room::{
    PlaceStatus, QueuePlace, QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, ConcertId, HoldId};
use std::time::Duration;
use uuid::Uuid;

/// The settings' defaults, with `max_active` users active at once.
fn rules(max_active: u32) -> RoomRules {
    RoomRules {
        max_active,
        admission_margin: 10,
        active_ttl: Duration::from_secs(600),
        idle_timeout: Duration::from_secs(120),
        rate_window: Duration::from_secs(60),
    }
}

fn concert() -> ConcertId {
    ConcertId::from_uuid(Uuid::now_v7())
}

fn hold() -> HoldId {
    HoldId::from_uuid(Uuid::now_v7())
}

/// A fresh token, made as the application makes them.
fn token(concert: ConcertId) -> QueueToken {
    QueueToken::new(concert, &Uuid::new_v4().simple().to_string())
}

fn secs(seconds: i64) -> TimeDelta {
    TimeDelta::seconds(seconds)
}

/// Gives the room `unsold` seats and no holds.
async fn open<R: WaitingRoom>(room: &R, concert: ConcertId, unsold: u32) {
    let inventory = RoomInventory {
        unsold_seats: unsold,
        holds: Vec::new(),
    };
    if let Err(error) = room.set_inventory(concert, &inventory).await {
        panic!("set_inventory: {error}");
    }
}

async fn join<R: WaitingRoom>(
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

async fn poll<R: WaitingRoom>(
    room: &R,
    place: &QueuePlace,
    at: DateTime<Utc>,
    rules: RoomRules,
) -> Option<QueuePlace> {
    room.poll(&place.token, place.user_id, at, rules)
        .await
        .unwrap_or_else(|error| panic!("poll: {error}"))
}

async fn finish<R: WaitingRoom>(
    room: &R,
    place: &QueuePlace,
    at: DateTime<Utc>,
    rules: RoomRules,
) -> bool {
    room.finish(&place.token, place.user_id, at, rules)
        .await
        .unwrap_or_else(|error| panic!("finish: {error}"))
}

fn position(place: Option<&QueuePlace>) -> Option<u64> {
    match place?.status {
        PlaceStatus::Waiting { position } => Some(position),
        PlaceStatus::Active { .. } => None,
    }
}

fn is_active(place: Option<&QueuePlace>) -> bool {
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

/// `sold_out` while every unsold seat is held; a hold's expiry or release brings one back.
pub async fn sold_out_while_every_seat_is_held_until_a_hold_ends<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(10));
    open(room, concert, 2).await;
    let (early, late) = (hold(), hold());
    let recorded = (
        room.hold_recorded(concert, early, start + secs(300)).await,
        room.hold_recorded(concert, late, start + secs(400)).await,
    );
    assert_eq!(recorded, (Ok(()), Ok(())));
    let place = join(room, concert, user_id(), start, rules).await;
    assert_eq!(place.availability, Availability::SoldOut);
    let before = poll(room, &place, start + secs(299), rules).await;
    assert_eq!(before.map(|p| p.availability), Some(Availability::SoldOut));
    let after = poll(room, &place, start + secs(300), rules).await;
    assert_eq!(
        after.map(|p| p.availability),
        Some(Availability::PossiblyAvailable)
    );

    let other = self::concert();
    let inventory = RoomInventory {
        unsold_seats: 1,
        holds: vec![(hold(), start + secs(10))],
    };
    assert_eq!(room.set_inventory(other, &inventory).await, Ok(()));
    let place = join(room, other, user_id(), start, rules).await;
    assert_eq!(place.availability, Availability::SoldOut);
    let after = poll(room, &place, start + secs(10), rules).await;
    assert_eq!(
        after.map(|p| p.availability),
        Some(Availability::PossiblyAvailable)
    );
    let held = hold();
    assert_eq!(
        room.hold_recorded(other, held, start + secs(900)).await,
        Ok(())
    );
    let again = poll(room, &place, start + secs(11), rules).await;
    assert_eq!(again.map(|p| p.availability), Some(Availability::SoldOut));
    assert_eq!(room.hold_released(other, held).await, Ok(()));
    assert_eq!(
        room.hold_released(other, hold()).await,
        Ok(()),
        "unknown: ignored"
    );
    let released = poll(room, &place, start + secs(12), rules).await;
    assert_eq!(
        released.map(|p| p.availability),
        Some(Availability::PossiblyAvailable)
    );
}

/// A recorded sale takes one unsold seat, however often it is recorded.
pub async fn a_sale_recorded_twice_counts_once<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(10));
    open(room, concert, 2).await;
    let sold = hold();
    assert_eq!(
        room.hold_recorded(concert, sold, start + secs(300)).await,
        Ok(())
    );
    assert_eq!(room.sale_recorded(concert, sold).await, Ok(()));
    assert_eq!(room.sale_recorded(concert, sold).await, Ok(()));
    let place = join(room, concert, user_id(), start, rules).await;
    assert_eq!(
        place.availability,
        Availability::PossiblyAvailable,
        "one seat left"
    );
    let held = hold();
    assert_eq!(
        room.hold_recorded(concert, held, start + secs(300)).await,
        Ok(())
    );
    assert_eq!(room.sale_recorded(concert, sold).await, Ok(()));
    let polled = poll(room, &place, start + secs(1), rules).await;
    assert_eq!(polled.map(|p| p.availability), Some(Availability::SoldOut));
    assert_eq!(room.hold_released(concert, held).await, Ok(()));
    let polled = poll(room, &place, start + secs(2), rules).await;
    assert_eq!(
        polled.map(|p| p.availability),
        Some(Availability::PossiblyAvailable),
        "the repeated sale did not take the last seat"
    );
}

/// No more seekers are admitted than free seats plus the margin, holders not counted.
pub async fn admission_stops_at_free_seats_plus_margin<R: WaitingRoom>(room: &R) {
    let (concert, start) = (concert(), now());
    let rules = RoomRules {
        admission_margin: 1,
        ..rules(100)
    };
    open(room, concert, 2).await;
    let mut active = Vec::new();
    for _ in 0..3 {
        active.push(join(room, concert, user_id(), start, rules).await);
    }
    assert!(
        active.iter().all(|place| is_active(Some(place))),
        "{active:?}"
    );
    let waiting = join(room, concert, user_id(), start, rules).await;
    assert_eq!(position(Some(&waiting)), Some(1), "2 free seats + margin 1");
    // A holder counts against the seat it holds: still 3 seekers at most.
    assert_eq!(
        room.hold_recorded(concert, hold(), start + secs(300)).await,
        Ok(())
    );
    let still = poll(room, &waiting, start + secs(1), rules).await;
    assert_eq!(position(still.as_ref()), Some(1));
    open(room, concert, 10).await;
    assert!(is_active(
        poll(room, &waiting, start + secs(2), rules).await.as_ref()
    ));
}

/// A closed room ends every place and refuses joins until an inventory reopens it.
pub async fn a_closed_room_refuses_until_an_inventory_reopens_it<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(10));
    open(room, concert, 10).await;
    let place = join(room, concert, user_id(), start, rules).await;
    assert_eq!(room.close(concert).await, Ok(()));
    let refused = room
        .join(concert, user_id(), token(concert), start, rules)
        .await;
    assert_eq!(refused, Err(RoomError::Closed));
    let polled = room.poll(&place.token, place.user_id, start, rules).await;
    assert_eq!(polled, Err(RoomError::Closed));
    assert!(!finish(room, &place, start, rules).await);
    open(room, concert, 10).await;
    assert_eq!(
        poll(room, &place, start + secs(1), rules).await,
        None,
        "places ended"
    );
    let back = join(room, concert, place.user_id, start + secs(1), rules).await;
    assert_ne!(back.token, place.token);
    assert!(is_active(Some(&back)));
}

/// Before its first inventory a room answers `InventoryUnknown` and keeps nobody.
pub async fn a_room_without_inventory_is_unknown<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(1));
    let early = user_id();
    let refused = room
        .join(concert, early, token(concert), start, rules)
        .await;
    assert_eq!(refused, Err(RoomError::InventoryUnknown));
    open(room, concert, 10).await;
    let first = join(room, concert, user_id(), start, rules).await;
    assert!(is_active(Some(&first)), "the refused join took no place");
    let late = join(room, concert, early, start, rules).await;
    assert_eq!(position(Some(&late)), Some(1));
}

/// Someone else's token, a forged one or one of another room: no place.
pub async fn a_token_not_the_callers_has_no_place<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(10));
    open(room, concert, 10).await;
    let place = join(room, concert, user_id(), start, rules).await;
    let stranger = user_id();
    let foreign = room.poll(&place.token, stranger, start, rules).await;
    assert_eq!(foreign, Ok(None));
    assert_eq!(
        room.finish(&place.token, stranger, start, rules).await,
        Ok(false)
    );
    let forged = room
        .poll(&token(concert), place.user_id, start, rules)
        .await;
    assert_eq!(forged, Ok(None));
    let elsewhere = room
        .poll(&token(self::concert()), place.user_id, start, rules)
        .await;
    assert_eq!(elsewhere, Ok(None));
    assert!(
        is_active(poll(room, &place, start, rules).await.as_ref()),
        "still theirs"
    );
}

/// Finishing a token the room does not know is `false`.
pub async fn finishing_an_unknown_token_is_false<R: WaitingRoom>(room: &R) {
    let (concert, start, rules) = (concert(), now(), rules(10));
    let unknown = room.finish(&token(concert), user_id(), start, rules).await;
    assert_eq!(unknown, Ok(false), "a room without inventory");
    open(room, concert, 10).await;
    let forged = room.finish(&token(concert), user_id(), start, rules).await;
    assert_eq!(forged, Ok(false));
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
