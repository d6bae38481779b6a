//! `WaitingRoom`: the inventory copy (holds, their expiry, sales), the margin cap, closing and
//! reopening, a room without inventory, and tokens that are not the caller's.

use super::waiting_room::{
    concert, finish, hold, is_active, join, open, poll, position, rules, secs, token,
};
use crate::support::{now, user_id};
use reserva_application::ports::waiting_room::{RoomError, RoomInventory, RoomRules, WaitingRoom};
use reserva_domain::tickets::Availability;

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
