//! `reserva seed catalog`: a large, deterministic catalog for benchmarks — tests, courses, users
//! and paid registrations, generated row by row and handed to the [`CatalogSeeder`] in batches.
//!
//! Every value of row `n` is drawn from a splitmix64 sequence started from `n` (and the kind of
//! row), so the same plan at the same instant always yields the same rows, no row depends on
//! another, and no random-number crate is needed:
//!
//! - titles: a qualifier, a noun and the row number, plus each of the ten [`SUBJECT_WORDS`] with
//!   probability 1/10 (so each subject word is in about 10 % of the titles — the G-SEARCH
//!   workload's words — and no other generated text contains them);
//! - prices 10,000 to 100,000 won in steps of 100; `starts_at` within 30 days either side of
//!   now, lasting 1 to 7 whole days (so about 7 % of the items are open now); `created_at` within
//!   the past 365 days, rising with the row number (the rows come in the order they were
//!   created), the id a UUID v7 of that instant;
//! - courses: a category, a level and [`SeedPlan::tutor`];
//! - users `seed-<n>` sharing one password hash; each registers for
//!   [`SeedPlan::registrations_per_user`] distinct items open now, paid by card.

use crate::DependencyError;
use crate::ports::catalog::{CatalogSeeder, NewItem, SeedRegistration, SeedUser};
use chrono::{DateTime, Duration, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    Category, CourseDetails, ItemDescription, ItemId, ItemKind, ItemTitle, RegistrationId,
    Schedule, SkillLevel,
};
use reserva_domain::wallet::{Money, PaymentId};
use std::collections::HashSet;
use uuid::Uuid;

/// The ten subject words of the G-SEARCH workload, each drawn into a title with probability 1/10
/// (about 100,000 of a million titles each), and found in no other generated text.
pub const SUBJECT_WORDS: [&str; 10] = [
    "kubernetes",
    "graphql",
    "terraform",
    "elixir",
    "haskell",
    "kafka",
    "webassembly",
    "tensorflow",
    "flutter",
    "solidity",
];

/// Title qualifiers (no subject word among them).
const QUALIFIERS: [&str; 8] = [
    "Practical",
    "Applied",
    "Modern",
    "Essential",
    "Complete",
    "Intensive",
    "Introductory",
    "Professional",
];

/// Nouns of test titles.
const TEST_NOUNS: [&str; 5] = [
    "Certification Exam",
    "Assessment",
    "Mock Test",
    "Quiz",
    "Placement Test",
];

/// Nouns of course titles.
const COURSE_NOUNS: [&str; 5] = [
    "Bootcamp",
    "Masterclass",
    "Fundamentals",
    "Workshop",
    "Deep Dive",
];

/// Separate streams per kind of row, so test 5, course 5 and user 5 draw different values.
const TEST_STREAM: u64 = 0x7465_7374;
const COURSE_STREAM: u64 = 0x636f_7572;
const SCHEDULE_STREAM: u64 = 0x7363_6864;
const USER_STREAM: u64 = 0x7573_6572;
const REGISTRATION_STREAM: u64 = 0x7265_6769;

/// How many draws of a random item each registration may take before the user is given fewer
/// registrations (only a tiny catalog with almost nothing open gets there).
const DRAWS_PER_REGISTRATION: u32 = 200;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlan {
    /// Tests to create.
    pub tests: u64,
    /// Courses to create.
    pub courses: u64,
    /// Users to create.
    pub users: u64,
    /// Distinct open items each user registers for (fewer when the catalog has too few open).
    pub registrations_per_user: u32,
    /// Rows per call to the seeder (0 is taken as 1).
    pub batch: usize,
    /// The tutor who teaches every course: an existing user with the tutor role (the CLI makes
    /// or reuses `seed-tutor`).
    pub tutor: UserId,
}

/// Which rows are being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStage {
    /// Tests.
    Tests,
    /// Courses.
    Courses,
    /// Building the item indexes set aside for the load (only when the store set some aside).
    Indexes,
    /// Users.
    Users,
    /// Registrations and their payments.
    Registrations,
    /// Counting the registrations of every item and refreshing the statistics.
    Recount,
}

impl SeedStage {
    /// `tests`, `courses`, `indexes`, `users`, `registrations` or `recount`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tests => "tests",
            Self::Courses => "courses",
            Self::Indexes => "indexes",
            Self::Users => "users",
            Self::Registrations => "registrations",
            Self::Recount => "recount",
        }
    }
}

/// Reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedProgress {
    /// The rows being written.
    pub stage: SeedStage,
    /// Rows of this stage written so far.
    pub done: u64,
    /// Rows this stage will write at most.
    pub total: u64,
}

/// Rows written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    /// Tests.
    pub tests: u64,
    /// Courses.
    pub courses: u64,
    /// Users.
    pub users: u64,
    /// Paid registrations.
    pub registrations: u64,
}

impl SeedReport {
    /// Every row written.
    #[must_use]
    pub const fn rows(&self) -> u64 {
        self.tests + self.courses + self.users + self.registrations
    }
}

/// Generates the plan's rows and writes them batch by batch, then recounts, calling `progress`
/// after each batch and at the start and end of each stage.
///
/// # Errors
/// The first [`DependencyError`] of the seeder; the rows of the batches before it stay written.
pub async fn seed_catalog(
    seeder: &dyn CatalogSeeder,
    password_hash: &str,
    plan: &SeedPlan,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(SeedProgress) + Send),
) -> Result<SeedReport, DependencyError> {
    let batch = u64::try_from(plan.batch.max(1)).unwrap_or(u64::MAX);
    let generator = Generator { plan, now };
    let mut report = SeedReport::default();
    let deferred = seeder.defer_item_indexes().await?;
    let loaded = write_items(seeder, &generator, batch, &mut report, progress).await;
    if deferred > 0 {
        // Built after a failed load too (then the load's error is the answer), so a failure
        // leaves no index aside but when the store is down.
        let mut meter = Meter::start(SeedStage::Indexes, deferred, progress);
        let built = seeder.build_item_indexes().await;
        if loaded.is_ok() {
            meter.add(built?, progress);
        }
    }
    loaded?;
    let mut meter = Meter::start(SeedStage::Users, plan.users, progress);
    for rows in batches(plan.users, batch) {
        let users: Vec<SeedUser> = rows.map(|row| generator.user(row, password_hash)).collect();
        meter.add(seeder.insert_users(&users).await?, progress);
    }
    report.users = meter.done;
    report.registrations = write_registrations(seeder, &generator, batch, progress).await?;
    let mut meter = Meter::start(SeedStage::Recount, 1, progress);
    seeder.recount().await?;
    meter.add(1, progress);
    Ok(report)
}

/// Writes the tests, then the courses, batch by batch, counting them in `report`.
async fn write_items(
    seeder: &dyn CatalogSeeder,
    generator: &Generator<'_>,
    batch: u64,
    report: &mut SeedReport,
    progress: &mut (dyn FnMut(SeedProgress) + Send),
) -> Result<(), DependencyError> {
    let plan = generator.plan;
    for (kind, stage, total) in [
        (ItemKind::Test, SeedStage::Tests, plan.tests),
        (ItemKind::Course, SeedStage::Courses, plan.courses),
    ] {
        let mut meter = Meter::start(stage, total, progress);
        for rows in batches(total, batch) {
            let items: Vec<NewItem> = rows.map(|row| generator.item(kind, row)).collect();
            meter.add(seeder.insert_items(&items).await?, progress);
        }
        match kind {
            ItemKind::Test => report.tests = meter.done,
            ItemKind::Course => report.courses = meter.done,
        }
    }
    Ok(())
}

/// Rows `0..total` cut into ranges of at most `batch` (> 0).
fn batches(total: u64, batch: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..total.div_ceil(batch)).map(move |index| {
        let start = index * batch;
        start..total.min(start.saturating_add(batch))
    })
}

/// One stage's count of rows written, reported as it grows.
struct Meter {
    stage: SeedStage,
    done: u64,
    total: u64,
}

impl Meter {
    /// Reports the stage's start.
    fn start(
        stage: SeedStage,
        total: u64,
        progress: &mut (dyn FnMut(SeedProgress) + Send),
    ) -> Self {
        let meter = Self {
            stage,
            done: 0,
            total,
        };
        meter.report(progress);
        meter
    }

    /// Counts `rows` more and reports.
    fn add(&mut self, rows: u64, progress: &mut (dyn FnMut(SeedProgress) + Send)) {
        self.done += rows;
        self.report(progress);
    }

    fn report(&self, progress: &mut (dyn FnMut(SeedProgress) + Send)) {
        progress(SeedProgress {
            stage: self.stage,
            done: self.done,
            total: self.total,
        });
    }
}

/// Writes each user's registrations, a batch at a time (a user's rows may straddle batches).
async fn write_registrations(
    seeder: &dyn CatalogSeeder,
    generator: &Generator<'_>,
    batch: u64,
    progress: &mut (dyn FnMut(SeedProgress) + Send),
) -> Result<u64, DependencyError> {
    let plan = generator.plan;
    let total = plan
        .users
        .saturating_mul(u64::from(plan.registrations_per_user));
    let capacity = usize::try_from(batch.min(total)).unwrap_or(0);
    let mut pending: Vec<SeedRegistration> = Vec::with_capacity(capacity);
    let mut meter = Meter::start(SeedStage::Registrations, total, progress);
    let batch = usize::try_from(batch).unwrap_or(usize::MAX);
    for user in 0..plan.users {
        pending.extend(generator.registrations(user));
        while pending.len() >= batch {
            let rest = pending.split_off(batch);
            meter.add(seeder.insert_registrations(&pending).await?, progress);
            pending = rest;
        }
    }
    if !pending.is_empty() {
        meter.add(seeder.insert_registrations(&pending).await?, progress);
    }
    Ok(meter.done)
}

/// A splitmix64 sequence: deterministic, fast, and good enough to spread benchmark rows.
struct Draws(u64);

impl Draws {
    /// The sequence of row `row` of `stream`.
    fn new(stream: u64, row: u64) -> Self {
        Self(mix(stream.rotate_left(32) ^ row))
    }

    /// The next value.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `0..bound` (`bound` > 0; the modulo bias is irrelevant at these bounds).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// An index into a list of `len` elements.
    fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// A whole number of seconds in `0..bound_seconds`.
    fn seconds(&mut self, bound_seconds: i64) -> Duration {
        let bound = u64::try_from(bound_seconds.max(1)).unwrap_or(1);
        Duration::seconds(i64::try_from(self.below(bound)).unwrap_or(0))
    }

    /// A UUID v7 of `at` whose random part is drawn from the sequence.
    fn uuid_v7(&mut self, at: DateTime<Utc>) -> Uuid {
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let mut random = [0_u8; 10];
        random[..8].copy_from_slice(&self.next().to_le_bytes());
        random[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

/// splitmix64's finaliser.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row `n` of each kind, for a plan at an instant.
struct Generator<'a> {
    plan: &'a SeedPlan,
    now: DateTime<Utc>,
}

impl Generator<'_> {
    /// When item `row` of `kind` is open: its own stream, so the registrations can test an item
    /// without generating it whole.
    fn schedule(&self, kind: ItemKind, row: u64) -> Schedule {
        let stream = match kind {
            ItemKind::Test => SCHEDULE_STREAM,
            ItemKind::Course => !SCHEDULE_STREAM,
        };
        let mut draws = Draws::new(stream, row);
        let thirty_days = Duration::days(30).num_seconds();
        let starts_at = self.now - Duration::days(30) + draws.seconds(2 * thirty_days + 1);
        let days = 1 + draws.below(7);
        let ends_at = starts_at + Duration::days(i64::try_from(days).unwrap_or(1));
        Schedule::from_stored(starts_at, ends_at)
    }

    /// When item `row` of `total` was created: a drawn whole second inside the row's own slot of
    /// the past 365 days, the slots in row order (row 0 the oldest). So the rows are written in
    /// the order they were created, as a catalog's table receives them over time (and as the
    /// source system's seed wrote them: its `created_at` is the instant of the insert). The heap
    /// then holds consecutive items of a list's newest-first order together, a few to a page,
    /// where instants drawn at random put every one of them on a page of its own.
    fn created_at(&self, draws: &mut Draws, row: u64, total: u64) -> DateTime<Utc> {
        let year = Duration::days(365);
        let seconds = u128::from(year.num_seconds().unsigned_abs());
        let total = u128::from(total.max(row + 1));
        let boundary = |row: u64| i64::try_from(u128::from(row) * seconds / total).unwrap_or(0);
        let (start, end) = (boundary(row), boundary(row + 1));
        self.now - year + Duration::seconds(start) + draws.seconds(end - start)
    }

    /// Item `row` of `kind`.
    fn item(&self, kind: ItemKind, row: u64) -> NewItem {
        let (stream, nouns, label) = match kind {
            ItemKind::Test => (TEST_STREAM, &TEST_NOUNS, "test"),
            ItemKind::Course => (COURSE_STREAM, &COURSE_NOUNS, "course"),
        };
        let total = match kind {
            ItemKind::Test => self.plan.tests,
            ItemKind::Course => self.plan.courses,
        };
        let mut draws = Draws::new(stream, row);
        let created_at = self.created_at(&mut draws, row, total);
        let id = ItemId::from_uuid(draws.uuid_v7(created_at));
        let mut title = format!(
            "{} {} {}",
            QUALIFIERS[draws.index(QUALIFIERS.len())],
            nouns[draws.index(nouns.len())],
            row + 1
        );
        for word in SUBJECT_WORDS {
            if draws.below(10) == 0 {
                title.push(' ');
                title.push_str(&capitalised(word));
            }
        }
        let description = (row % 2 == 1).then(|| {
            ItemDescription::from_stored(format!(
                "Generated {label} number {} for load tests.",
                row + 1
            ))
        });
        let price = 10_000 + 100 * draws.below(901);
        let course = matches!(kind, ItemKind::Course).then(|| CourseDetails {
            category: Category::ALL[draws.index(Category::ALL.len())],
            skill_level: SkillLevel::ALL[draws.index(SkillLevel::ALL.len())],
            tutor_id: self.plan.tutor,
        });
        NewItem {
            id,
            kind,
            title: ItemTitle::from_stored(title),
            description,
            price: Money::new(i64::try_from(price).unwrap_or(10_000)).unwrap_or_default(),
            schedule: self.schedule(kind, row),
            course,
            now: created_at,
        }
    }

    /// User `row`.
    fn user(&self, row: u64, password_hash: &str) -> SeedUser {
        let mut draws = Draws::new(USER_STREAM, row);
        SeedUser {
            id: UserId::from_uuid(draws.uuid_v7(self.now)),
            email: format!("seed-{row}@seed.reserva.invalid"),
            username: format!("seed-{row}"),
            password_hash: password_hash.to_owned(),
            now: self.now,
        }
    }

    /// User `row`'s registrations: distinct items open now, each paid by card at a moment
    /// between the item's creation and now.
    fn registrations(&self, row: u64) -> Vec<SeedRegistration> {
        let plan = self.plan;
        let items = plan.tests.saturating_add(plan.courses);
        let wanted = plan.registrations_per_user;
        if items == 0 || wanted == 0 {
            return Vec::new();
        }
        let user = self.user(row, "").id;
        let mut draws = Draws::new(REGISTRATION_STREAM, row);
        let mut chosen = HashSet::new();
        let mut registrations = Vec::new();
        let mut attempts = wanted.saturating_mul(DRAWS_PER_REGISTRATION);
        while registrations.len() < wanted as usize && attempts > 0 {
            attempts -= 1;
            let pick = draws.below(items);
            let (kind, item_row) = if pick < plan.tests {
                (ItemKind::Test, pick)
            } else {
                (ItemKind::Course, pick - plan.tests)
            };
            if !self.schedule(kind, item_row).is_open(self.now) || !chosen.insert(pick) {
                continue;
            }
            let item = self.item(kind, item_row);
            let since = (self.now - item.now).num_seconds();
            let paid_at = item.now + draws.seconds(since + 1);
            registrations.push(SeedRegistration {
                payment_id: PaymentId::from_uuid(draws.uuid_v7(paid_at)),
                registration_id: RegistrationId::from_uuid(draws.uuid_v7(paid_at)),
                user_id: user,
                kind,
                item_id: item.id,
                item_title: item.title.as_str().to_owned(),
                amount: item.price,
                paid_at,
            });
        }
        registrations
    }
}

/// `word` with its first letter in upper case.
fn capitalised(word: &str) -> String {
    let mut letters = word.chars();
    letters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(letters).collect()
    })
}

#[cfg(test)]
mod tests;
