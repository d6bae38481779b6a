//! The generated catalog, over a seeder that keeps every batch it is given.

use super::{SUBJECT_WORDS, SeedPlan, SeedProgress, SeedReport, SeedStage, seed_catalog};
use crate::DependencyError;
use crate::ports::catalog::{CatalogSeeder, NewItem, SeedRegistration, SeedUser};
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::SearchText;
use reserva_domain::catalog::{ItemId, ItemKind};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

/// Every call the seed made, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    DeferIndexes,
    BuildIndexes,
    Items(Vec<NewItem>),
    Users(Vec<SeedUser>),
    Registrations(Vec<SeedRegistration>),
    Recount,
}

/// Keeps the calls that succeeded; fails the `fail_at`-th call (counting every call from 0)
/// when set; sets `deferred` indexes aside when asked to.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
    attempts: AtomicUsize,
    fail_at: Option<usize>,
    deferred: u64,
}

impl Recorder {
    fn record(&self, call: Call) -> Result<u64, DependencyError> {
        let mut calls = self.calls.lock().unwrap();
        if self.fail_at == Some(self.attempts.fetch_add(1, Ordering::Relaxed)) {
            return Err(DependencyError::Unavailable("seeder down".to_owned()));
        }
        let rows = match &call {
            Call::DeferIndexes | Call::BuildIndexes => {
                calls.push(call);
                return Ok(self.deferred);
            }
            Call::Items(rows) => rows.len(),
            Call::Users(rows) => rows.len(),
            Call::Registrations(rows) => rows.len(),
            Call::Recount => 0,
        };
        calls.push(call);
        Ok(rows as u64)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn items(&self) -> Vec<NewItem> {
        self.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::Items(rows) => Some(rows),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn users(&self) -> Vec<SeedUser> {
        self.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::Users(rows) => Some(rows),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn registrations(&self) -> Vec<SeedRegistration> {
        self.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::Registrations(rows) => Some(rows),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

#[async_trait]
impl CatalogSeeder for Recorder {
    async fn insert_items(&self, items: &[NewItem]) -> Result<u64, DependencyError> {
        self.record(Call::Items(items.to_vec()))
    }

    async fn insert_users(&self, users: &[SeedUser]) -> Result<u64, DependencyError> {
        self.record(Call::Users(users.to_vec()))
    }

    async fn insert_registrations(
        &self,
        registrations: &[SeedRegistration],
    ) -> Result<u64, DependencyError> {
        self.record(Call::Registrations(registrations.to_vec()))
    }

    async fn defer_item_indexes(&self) -> Result<u64, DependencyError> {
        self.record(Call::DeferIndexes)
    }

    async fn deferred_item_indexes(&self) -> Result<Vec<String>, DependencyError> {
        Ok(Vec::new())
    }

    async fn build_item_indexes(&self) -> Result<u64, DependencyError> {
        self.record(Call::BuildIndexes)
    }

    async fn recount(&self) -> Result<(), DependencyError> {
        self.record(Call::Recount).map(|_| ())
    }
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$shared";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).single().unwrap()
}

fn tutor() -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1234))
}

fn plan(tests: u64, courses: u64, users: u64) -> SeedPlan {
    SeedPlan {
        tests,
        courses,
        users,
        registrations_per_user: 5,
        batch: 300,
        tutor: tutor(),
    }
}

/// Runs the seed into a fresh recorder, with the progress it reported.
async fn seed(plan: &SeedPlan) -> (Recorder, SeedReport, Vec<SeedProgress>) {
    let recorder = Recorder::default();
    let (report, progress) = seed_into(&recorder, plan).await;
    (recorder, report.unwrap(), progress)
}

async fn seed_into(
    recorder: &Recorder,
    plan: &SeedPlan,
) -> (Result<SeedReport, DependencyError>, Vec<SeedProgress>) {
    let mut progress = Vec::new();
    let report = seed_catalog(recorder, HASH, plan, now(), &mut |step| progress.push(step)).await;
    (report, progress)
}

#[tokio::test]
async fn the_same_plan_at_the_same_instant_makes_the_same_rows() {
    let (first, _, _) = seed(&plan(700, 500, 20)).await;
    let (second, _, _) = seed(&plan(700, 500, 20)).await;
    assert_eq!(first.calls(), second.calls());
    // And a row does not depend on how many others there are, but for its creation instant
    // (and the id made of it): the rows split the year between them, in row order.
    let (fewer, _, _) = seed(&plan(300, 0, 0)).await;
    let undated = |items: &[NewItem]| -> Vec<NewItem> {
        items
            .iter()
            .map(|item| NewItem {
                id: ItemId::from_uuid(Uuid::nil()),
                now: now(),
                ..item.clone()
            })
            .collect()
    };
    assert_eq!(undated(&fewer.items()), undated(&first.items()[..300]));
    assert_ne!(fewer.items()[299].now, first.items()[299].now);
}

#[tokio::test]
async fn it_writes_every_row_asked_for_in_batches_then_recounts_once() {
    let (recorder, report, _) = seed(&plan(1_000, 700, 40)).await;
    assert_eq!(
        report,
        SeedReport {
            tests: 1_000,
            courses: 700,
            users: 40,
            registrations: 200
        }
    );
    assert_eq!(report.rows(), 1_940);
    let calls = recorder.calls();
    let sizes: Vec<(char, usize)> = calls
        .iter()
        .map(|call| match call {
            Call::DeferIndexes => ('d', 0),
            Call::BuildIndexes => ('b', 0),
            Call::Items(rows) => ('i', rows.len()),
            Call::Users(rows) => ('u', rows.len()),
            Call::Registrations(rows) => ('r', rows.len()),
            Call::Recount => ('c', 0),
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ('d', 0),
            ('i', 300),
            ('i', 300),
            ('i', 300),
            ('i', 100),
            ('i', 300),
            ('i', 300),
            ('i', 100),
            ('u', 40),
            ('r', 200),
            ('c', 0)
        ]
    );
    let items = recorder.items();
    assert!(
        items[..1_000]
            .iter()
            .all(|item| item.kind == ItemKind::Test)
    );
    assert!(
        items[1_000..]
            .iter()
            .all(|item| item.kind == ItemKind::Course)
    );
}

#[tokio::test]
async fn registrations_straddle_batches_and_a_zero_batch_is_one() {
    let small = SeedPlan {
        batch: 7,
        ..plan(400, 400, 6)
    };
    let (recorder, report, _) = seed(&small).await;
    assert_eq!(report.registrations, 30);
    let sizes: Vec<usize> = recorder
        .calls()
        .iter()
        .filter_map(|call| match call {
            Call::Registrations(rows) => Some(rows.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [7, 7, 7, 7, 2]);
    let zero = SeedPlan {
        batch: 0,
        ..plan(3, 0, 0)
    };
    let (recorder, _, _) = seed(&zero).await;
    // nothing set aside, three items of one row each, the recount
    assert_eq!(recorder.calls().len(), 5);
}

#[tokio::test]
async fn ids_e_mails_usernames_and_pairs_are_distinct() {
    let (recorder, _, _) = seed(&plan(2_000, 2_000, 60)).await;
    let items = recorder.items();
    let ids: HashSet<ItemId> = items.iter().map(|item| item.id).collect();
    assert_eq!(ids.len(), 4_000);
    let titles: HashSet<&str> = items.iter().map(|item| item.title.as_str()).collect();
    assert_eq!(titles.len(), 4_000, "row numbers make titles unique");
    let users = recorder.users();
    let distinct = |values: Vec<String>| values.iter().collect::<HashSet<_>>().len();
    assert_eq!(
        distinct(users.iter().map(|u| u.email.clone()).collect()),
        60
    );
    assert_eq!(
        distinct(users.iter().map(|u| u.username.clone()).collect()),
        60
    );
    assert_eq!(
        distinct(users.iter().map(|u| u.id.to_string()).collect()),
        60
    );
    assert!(users.iter().all(|user| user.password_hash == HASH));
    assert!(users.iter().all(|user| {
        reserva_domain::accounts::Email::parse(&user.email).is_ok()
            && reserva_domain::accounts::Username::parse(&user.username).is_ok()
    }));
    let registrations = recorder.registrations();
    assert_eq!(registrations.len(), 300);
    let pairs: HashSet<_> = registrations
        .iter()
        .map(|r| (r.user_id, r.item_id))
        .collect();
    assert_eq!(pairs.len(), 300);
    assert_eq!(
        distinct(
            registrations
                .iter()
                .map(|r| r.payment_id.to_string())
                .collect()
        ),
        300
    );
    assert_eq!(
        distinct(
            registrations
                .iter()
                .map(|r| r.registration_id.to_string())
                .collect()
        ),
        300
    );
}

#[tokio::test]
async fn registrations_are_for_seeded_users_and_open_items_at_their_price() {
    let (recorder, _, _) = seed(&plan(1_500, 1_500, 50)).await;
    let items: HashMap<ItemId, NewItem> = recorder
        .items()
        .into_iter()
        .map(|item| (item.id, item))
        .collect();
    let users: HashSet<UserId> = recorder.users().iter().map(|user| user.id).collect();
    let mut per_user: HashMap<UserId, u32> = HashMap::new();
    let mut kinds = HashSet::new();
    for registration in recorder.registrations() {
        let item = &items[&registration.item_id];
        assert!(users.contains(&registration.user_id));
        assert!(item.schedule.is_open(now()), "{registration:?}");
        assert_eq!(registration.kind, item.kind);
        assert_eq!(registration.amount, item.price);
        assert_eq!(registration.item_title, item.title.as_str());
        assert!(item.now <= registration.paid_at && registration.paid_at <= now());
        *per_user.entry(registration.user_id).or_default() += 1;
        kinds.insert(registration.kind);
    }
    assert_eq!(per_user.len(), 50);
    assert!(per_user.values().all(|count| *count == 5));
    assert_eq!(kinds.len(), 2, "tests and courses both get registrations");
}

#[tokio::test]
async fn each_subject_word_is_in_about_a_tenth_of_the_titles_and_nowhere_else() {
    let (recorder, _, _) = seed(&plan(10_000, 10_000, 0)).await;
    let items = recorder.items();
    for word in SUBJECT_WORDS {
        let search = SearchText::parse(word).unwrap();
        assert_eq!(search.words(), [word], "{word} is one lexeme");
        let in_titles = items
            .iter()
            .filter(|item| words_of(item.title.as_str()).contains(&word.to_owned()))
            .count();
        assert!(
            (1_800..=2_200).contains(&in_titles),
            "{word}: {in_titles} of 20,000 titles"
        );
        assert!(items.iter().all(|item| {
            item.description
                .as_ref()
                .is_none_or(|text| !words_of(text.as_str()).contains(&word.to_owned()))
        }));
    }
    let without_words = items
        .iter()
        .filter(|item| {
            let words = words_of(item.title.as_str());
            SUBJECT_WORDS
                .iter()
                .all(|word| !words.contains(&(*word).to_owned()))
        })
        .count();
    // 0.9^10 of the titles carry no subject word.
    assert!((6_600..=7_300).contains(&without_words), "{without_words}");
}

/// The lowercased words of a text, as the search splits them.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[tokio::test]
async fn prices_schedules_and_creation_instants_stay_in_their_ranges() {
    let (recorder, _, _) = seed(&plan(3_000, 3_000, 0)).await;
    let items = recorder.items();
    let mut prices = HashSet::new();
    let mut lengths = HashSet::new();
    let mut open = 0;
    for item in &items {
        let price = item.price.get();
        assert!(
            (10_000..=100_000).contains(&price) && price % 100 == 0,
            "{price}"
        );
        prices.insert(price);
        let starts = item.schedule.starts_at();
        assert!(now() - Duration::days(30) <= starts && starts <= now() + Duration::days(30));
        let length = item.schedule.ends_at() - starts;
        assert!(
            length.num_seconds() % 86_400 == 0 && (1..=7).contains(&length.num_days()),
            "{length}"
        );
        lengths.insert(length.num_days());
        assert!(now() - Duration::days(365) <= item.now && item.now <= now());
        let (seconds, _) = item.id.as_uuid().get_timestamp().unwrap().to_unix();
        assert_eq!(i64::try_from(seconds).unwrap(), item.now.timestamp());
        open += usize::from(item.schedule.is_open(now()));
    }
    assert!(prices.len() > 800, "prices spread: {}", prices.len());
    assert!(prices.contains(&10_000) && prices.contains(&100_000));
    assert_eq!(lengths.len(), 7);
    // About 4 days open in a 60-day window: 1 item in 15.
    assert!((250..=560).contains(&open), "{open} of 6,000 open now");
    let created_spread = items
        .iter()
        .filter(|item| item.now < now() - Duration::days(300))
        .count();
    assert!(
        created_spread > 500,
        "{created_spread} created over 300 days ago"
    );
}

#[tokio::test]
async fn items_come_in_the_order_they_were_created_spread_over_the_year() {
    let (recorder, _, _) = seed(&plan(3_000, 1_000, 0)).await;
    let items = recorder.items();
    for kind in [ItemKind::Test, ItemKind::Course] {
        let rows: Vec<&NewItem> = items.iter().filter(|item| item.kind == kind).collect();
        for pair in rows.windows(2) {
            let (earlier, later) = (pair[0], pair[1]);
            assert!(
                (earlier.now, earlier.id.as_uuid()) < (later.now, later.id.as_uuid()),
                "{kind:?}: {} then {}",
                earlier.now,
                later.now
            );
        }
        let (first, last) = (rows[0].now, rows[rows.len() - 1].now);
        assert!(
            first < now() - Duration::days(364),
            "{kind:?} first {first}"
        );
        assert!(
            last > now() - Duration::days(1) && last < now(),
            "{kind:?} last {last}"
        );
    }
    // Slots of a year split by the row count: the draws inside them still differ between
    // neighbours, and a second plan of other sizes keeps its rows in order too.
    let (recorder, _, _) = seed(&plan(7, 0, 0)).await;
    let instants: Vec<DateTime<Utc>> = recorder.items().iter().map(|item| item.now).collect();
    assert!(instants.is_sorted(), "{instants:?}");
    assert_eq!(instants.iter().collect::<HashSet<_>>().len(), 7);
}

#[tokio::test]
async fn courses_carry_a_category_a_level_and_the_tutor_and_tests_none() {
    let (recorder, _, _) = seed(&plan(200, 200, 0)).await;
    let mut categories = HashSet::new();
    let mut levels = HashSet::new();
    for item in recorder.items() {
        match item.kind {
            ItemKind::Test => assert_eq!(item.course, None),
            ItemKind::Course => {
                let course = item.course.unwrap();
                assert_eq!(course.tutor_id, tutor());
                categories.insert(course.category);
                levels.insert(course.skill_level);
            }
        }
    }
    assert_eq!((categories.len(), levels.len()), (9, 3));
}

#[tokio::test]
async fn progress_is_reported_per_batch_in_stage_order_and_ends_complete() {
    let (_, _, progress) = seed(&plan(650, 300, 3)).await;
    let tests: Vec<u64> = progress
        .iter()
        .filter(|step| step.stage == SeedStage::Tests)
        .map(|step| step.done)
        .collect();
    assert_eq!(tests, [0, 300, 600, 650]);
    let stages: Vec<SeedStage> = progress.iter().map(|step| step.stage).collect();
    let mut order = stages.clone();
    order.dedup();
    assert_eq!(
        order,
        [
            SeedStage::Tests,
            SeedStage::Courses,
            SeedStage::Users,
            SeedStage::Registrations,
            SeedStage::Recount
        ]
    );
    assert!(progress.iter().all(|step| step.done <= step.total));
    let last = progress.last().unwrap();
    assert_eq!(
        (last.stage, last.done, last.total),
        (SeedStage::Recount, 1, 1)
    );
    let registrations = progress
        .iter()
        .rfind(|step| step.stage == SeedStage::Registrations)
        .unwrap();
    assert_eq!((registrations.done, registrations.total), (15, 15));
}

#[tokio::test]
async fn a_catalog_with_nothing_open_gives_fewer_registrations_and_ends() {
    let (recorder, report, _) = seed(&plan(4, 0, 3)).await;
    let open = recorder
        .items()
        .iter()
        .filter(|item| item.schedule.is_open(now()))
        .count();
    assert_eq!(report.registrations, 3 * open as u64);
    let (_, report, _) = seed(&plan(0, 0, 3)).await;
    assert_eq!(report.registrations, 0);
}

#[tokio::test]
async fn the_first_failure_of_the_seeder_stops_the_seed() {
    let recorder = Recorder {
        fail_at: Some(1),
        ..Recorder::default()
    };
    let (report, _) = seed_into(&recorder, &plan(900, 900, 10)).await;
    assert_eq!(
        report,
        Err(DependencyError::Unavailable("seeder down".to_owned()))
    );
    assert_eq!(recorder.calls().len(), 1);
}

/// The calls' kinds, in order: `d` defer, `i` items, `b` build, `u` users, `r` registrations,
/// `c` recount.
fn kinds(recorder: &Recorder) -> String {
    let mut kinds: Vec<char> = recorder
        .calls()
        .iter()
        .map(|call| match call {
            Call::DeferIndexes => 'd',
            Call::BuildIndexes => 'b',
            Call::Items(_) => 'i',
            Call::Users(_) => 'u',
            Call::Registrations(_) => 'r',
            Call::Recount => 'c',
        })
        .collect();
    kinds.dedup();
    kinds.into_iter().collect()
}

#[tokio::test]
async fn indexes_set_aside_are_built_after_the_items_and_before_anything_reads_them() {
    let recorder = Recorder {
        deferred: 6,
        ..Recorder::default()
    };
    let (report, progress) = seed_into(&recorder, &plan(650, 300, 3)).await;
    assert_eq!(report.unwrap().rows(), 650 + 300 + 3 + 15);
    assert_eq!(kinds(&recorder), "diburc");
    let indexes: Vec<(u64, u64)> = progress
        .iter()
        .filter(|step| step.stage == SeedStage::Indexes)
        .map(|step| (step.done, step.total))
        .collect();
    assert_eq!(indexes, [(0, 6), (6, 6)]);
    let mut order: Vec<SeedStage> = progress.iter().map(|step| step.stage).collect();
    order.dedup();
    assert_eq!(
        order[1..4],
        [SeedStage::Courses, SeedStage::Indexes, SeedStage::Users]
    );
}

#[tokio::test]
async fn a_failed_load_still_builds_what_it_set_aside_and_answers_the_loads_error() {
    // call 0 defers, 1 writes the first tests, 2 fails
    let recorder = Recorder {
        deferred: 6,
        fail_at: Some(2),
        ..Recorder::default()
    };
    let (report, progress) = seed_into(&recorder, &plan(900, 900, 10)).await;
    assert_eq!(
        report,
        Err(DependencyError::Unavailable("seeder down".to_owned()))
    );
    assert_eq!(kinds(&recorder), "dib");
    // the build is reported started, never complete
    let indexes: Vec<u64> = progress
        .iter()
        .filter(|step| step.stage == SeedStage::Indexes)
        .map(|step| step.done)
        .collect();
    assert_eq!(indexes, [0]);
}

#[tokio::test]
async fn a_failed_build_stops_the_seed_before_the_users() {
    // call 0 defers, 1–3 write the tests, 4 (the build) fails
    let recorder = Recorder {
        deferred: 6,
        fail_at: Some(4),
        ..Recorder::default()
    };
    let (report, _) = seed_into(&recorder, &plan(900, 0, 10)).await;
    assert_eq!(
        report,
        Err(DependencyError::Unavailable("seeder down".to_owned()))
    );
    assert_eq!(kinds(&recorder), "di");
}

#[test]
fn the_seed_can_run_on_a_spawned_task() {
    fn spawnable<F: Future + Send>(future: F) -> F {
        future
    }
    let recorder = Recorder::default();
    let plan = plan(1, 1, 1);
    let mut progress = |_: SeedProgress| {};
    drop(spawnable(seed_catalog(
        &recorder,
        HASH,
        &plan,
        now(),
        &mut progress,
    )));
}
