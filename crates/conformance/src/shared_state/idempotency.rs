//! `IdempotencyRecords`: a key is claimed once, replayed byte for byte, given up only by its
//! owner, renewed while in flight, and lapses.

use super::{LONG, SHORT, SharedState};
use crate::support::tag;
use futures_util::future::join_all;
use reserva_application::ports::shared_state::{ClaimToken, IdempotencyClaim, RecordedResponse};
use std::time::Duration;

fn response(body: &str) -> RecordedResponse {
    RecordedResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/api/v1/things/1".into()),
        ],
        body: body.into(),
    }
}

async fn claimed<S: SharedState>(state: &S, key: &str, fingerprint: &str) -> ClaimToken {
    match state.claim(key, fingerprint, LONG).await {
        Ok(IdempotencyClaim::Claimed(token)) => token,
        other => panic!("expected a claim of {key}, got {other:?}"),
    }
}

/// A key's first request owns it; the same request again is in flight, another request is a
/// mismatch; once completed, the same request replays the response, byte for byte.
pub async fn idempotency_key_is_claimed_then_replayed<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let body = r#"{"id":"1","note":"ünïcode \"quoted\""}"#;
    let token = claimed(state, &key, "POST /things {a}").await;
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::InFlight)
    );
    assert_eq!(
        state.claim(&key, "POST /things {b}", LONG).await,
        Ok(IdempotencyClaim::Mismatch)
    );
    assert_eq!(
        state
            .complete(&key, &token, &response(body), Duration::from_secs(3600))
            .await,
        Ok(true)
    );
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::Replay(response(body)))
    );
    assert_eq!(
        state.claim(&key, "POST /things {b}", LONG).await,
        Ok(IdempotencyClaim::Mismatch)
    );
    assert_eq!(
        state.abandon(&key, &token).await,
        Ok(()),
        "abandoning a completed key"
    );
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::Replay(response(body))),
        "a completed key cannot be abandoned"
    );
}

/// An abandoned key is free again; a foreign token neither abandons nor completes a claim.
pub async fn idempotency_key_can_be_abandoned_only_by_its_owner<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let token = claimed(state, &key, "fp").await;
    let other = format!("idem-{}", tag());
    let foreign = claimed(state, &other, "fp").await;
    assert_eq!(state.abandon(&key, &foreign).await, Ok(()));
    assert_eq!(
        state.complete(&key, &foreign, &response("{}"), LONG).await,
        Ok(false)
    );
    assert_eq!(state.renew(&key, &foreign, LONG).await, Ok(false));
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "a foreign token changes nothing"
    );
    assert_eq!(state.abandon(&key, &token).await, Ok(()));
    let again = claimed(state, &key, "another fp").await;
    assert_ne!(again, token);
}

/// Of many simultaneous claims of one free key, exactly one owns it.
pub async fn concurrent_idempotency_claims_let_exactly_one_in<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let outcomes = join_all((0..20).map(|_| state.claim(&key, "fp", LONG))).await;
    let owners = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(IdempotencyClaim::Claimed(_))))
        .count();
    let in_flight = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(IdempotencyClaim::InFlight)))
        .count();
    assert_eq!((owners, in_flight), (1, 19), "{outcomes:?}");
}

/// A claim nobody completes lapses (a crashed instance); its late owner then changes nothing.
/// A replay lapses after its keep time.
pub async fn idempotency_claims_and_replays_lapse<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let Ok(IdempotencyClaim::Claimed(stale)) = state.claim(&key, "fp", SHORT).await else {
        panic!("free key not claimed")
    };
    tokio::time::sleep(SHORT * 2).await;
    let fresh = claimed(state, &key, "fp").await;
    assert_eq!(
        state.complete(&key, &stale, &response("{}"), LONG).await,
        Ok(false)
    );
    assert_eq!(state.renew(&key, &stale, LONG).await, Ok(false));
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "the stale owner could not complete"
    );
    assert_eq!(
        state.complete(&key, &fresh, &response("{}"), SHORT).await,
        Ok(true)
    );
    assert!(matches!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::Replay(_))
    ));
    tokio::time::sleep(SHORT * 2).await;
    assert!(matches!(
        state.claim(&key, "other fp", LONG).await,
        Ok(IdempotencyClaim::Claimed(_))
    ));
}

/// A renewed claim outlives its first lapse time; once completed it can no longer be renewed.
pub async fn a_renewed_idempotency_claim_stays_in_flight<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let Ok(IdempotencyClaim::Claimed(token)) = state.claim(&key, "fp", SHORT).await else {
        panic!("free key not claimed")
    };
    // Renewed every quarter of its life (a slow round trip on a loaded machine still leaves
    // room), for one and a half lives.
    for _ in 0..6 {
        tokio::time::sleep(SHORT / 4).await;
        assert_eq!(state.renew(&key, &token, SHORT).await, Ok(true));
    }
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "renewed past its first lapse time (1.5 x SHORT)"
    );
    assert_eq!(
        state.complete(&key, &token, &response("{}"), LONG).await,
        Ok(true)
    );
    assert_eq!(
        state.renew(&key, &token, SHORT).await,
        Ok(false),
        "a completed key is no longer in flight"
    );
    tokio::time::sleep(SHORT * 2).await;
    assert!(
        matches!(
            state.claim(&key, "fp", LONG).await,
            Ok(IdempotencyClaim::Replay(_))
        ),
        "renewing a completed key did not shorten its replay"
    );
}
