//! `reserva seed catalog` and `reserva catalog verify`: filling a store with a benchmark catalog,
//! and auditing the catalog's counts and registrations.

use crate::application;
use crate::settings::Settings;
use chrono::{DateTime, SubsecRound as _, Utc};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use reserva_adapter_crypto::Argon2PasswordHasher;
use reserva_application::catalog::seed::{
    SUBJECT_WORDS, SeedPlan, SeedProgress, SeedReport, SeedStage, seed_catalog,
};
use reserva_application::ports::accounts::{NewUser, UserRepository, UserWriteError};
use reserva_application::ports::catalog::{CatalogAudit, CatalogSeeder, RegistrationRepository};
use reserva_application::ports::security::PasswordHasher as _;
use reserva_domain::accounts::{Email, PasswordHash, PlainPassword, Role, UserId, Username};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

/// The password of every seeded user (and of the seed's tutor): they are benchmark accounts,
/// so anyone may log in as them.
pub const SEED_PASSWORD: &str = "seed-password-1";

/// The e-mail of the tutor who teaches every seeded course.
pub const SEED_TUTOR_EMAIL: &str = "seed-tutor@seed.reserva.invalid";

/// `reserva seed …`.
#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Fill the store with a benchmark catalog: tests and courses (prices 10,000–100,000, open
    /// within 30 days of now, created over the past year), users `seed-<n>` with the password
    /// `seed-password-1`, each registered and paid for a few open items, and one tutor
    /// `seed-tutor` for the courses. The rows are the same on every run (given the same
    /// instant); run it on an empty catalog.
    Catalog(SeedCatalogArgs),
}

/// The sizes of `reserva seed catalog`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedCatalogArgs {
    /// Tests to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub tests: u64,
    /// Courses to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub courses: u64,
    /// Users to create.
    #[arg(long, default_value_t = 10)]
    pub users: u64,
    /// Distinct open items each user registers for.
    #[arg(long, default_value_t = 5)]
    pub registrations_per_user: u32,
    /// Rows per call to the store (PostgreSQL writes each call as 5,000-row statements on four
    /// connections at once).
    #[arg(long, default_value_t = 20_000)]
    pub batch: usize,
}

/// `reserva catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Audit the catalog: every item's registration count equals its live registrations, no
    /// user holds two live registrations for one item, every paid payment has its registration,
    /// no index a bulk load set aside is left unbuilt. Exits 0 when clean, 1 on any violation, 3
    /// when the store cannot be read.
    Verify,
}

/// Runs `reserva seed catalog` on the configured store: seeds, then prints the summary.
///
/// # Errors
/// A message for the operator.
pub async fn seed(settings: &Settings, command: SeedCommand) -> Result<(), String> {
    let SeedCommand::Catalog(args) = command;
    let store = application::connect_store(settings)
        .await
        .map_err(|e| e.to_string())?;
    let show_bar = std::io::stderr().is_terminal();
    let (report, took) = seed_catalog_into(&*store.seeder, &*store.users, &args, show_bar).await?;
    println!("{}", seed_summary(&report, took));
    Ok(())
}

/// Runs `reserva catalog verify` on the configured store: prints the audit; `Ok(true)` when
/// clean.
///
/// # Errors
/// A message for the operator when the store cannot be audited.
pub async fn catalog_verify(settings: &Settings) -> Result<bool, String> {
    let store = application::connect_store(settings)
        .await
        .map_err(|e| e.to_string())?;
    catalog_verify_with(&*store.registrations).await
}

/// Seeds the catalog through `seeder`, making or reusing the seed's tutor through `users`, and
/// shows the progress on standard error (a bar on a terminal, a line per tenth otherwise).
/// Returns what was written and how long it took.
///
/// # Errors
/// A message for the operator.
pub async fn seed_catalog_into(
    seeder: &dyn CatalogSeeder,
    users: &dyn UserRepository,
    args: &SeedCatalogArgs,
    show_bar: bool,
) -> Result<(SeedReport, Duration), String> {
    let started = Instant::now();
    let now = Utc::now().trunc_subsecs(6);
    let password = PlainPassword::new(SEED_PASSWORD).map_err(|e| e.to_string())?;
    // One hash for everyone: hashing each user's would take hours and prove nothing.
    let hash = Argon2PasswordHasher::default()
        .hash(&password)
        .await
        .map_err(|e| e.to_string())?;
    let tutor = seed_tutor(users, &hash, now).await?;
    let plan = SeedPlan {
        tests: args.tests,
        courses: args.courses,
        users: args.users,
        registrations_per_user: args.registrations_per_user,
        batch: args.batch,
        tutor,
    };
    let mut display = Display::new(show_bar);
    let report = seed_catalog(seeder, hash.as_phc(), &plan, now, &mut |step| {
        display.show(step);
    })
    .await;
    display.finish();
    let report = report.map_err(|e| {
        format!(
            "seeding stopped: {e} (rows written so far stay; on PostgreSQL, item indexes the load \
             set aside and could not build stay recorded: `reserva catalog verify` lists them, and \
             `reserva seed catalog --tests 0 --courses 0 --users 0` builds them)"
        )
    })?;
    Ok((report, started.elapsed()))
}

/// The tutor `seed-tutor` (made now, or found from an earlier seed).
async fn seed_tutor(
    users: &dyn UserRepository,
    hash: &PasswordHash,
    now: DateTime<Utc>,
) -> Result<UserId, String> {
    let email = Email::parse(SEED_TUTOR_EMAIL).map_err(|e| e.to_string())?;
    let username = Username::parse("seed-tutor").map_err(|e| e.to_string())?;
    let tutor = NewUser {
        id: UserId::from_uuid(uuid::Uuid::now_v7()),
        email: email.clone(),
        username,
        password_hash: hash.clone(),
        role: Role::Tutor,
        now,
    };
    match users.insert_user(tutor).await {
        Ok(user) => Ok(user.id),
        Err(UserWriteError::EmailTaken | UserWriteError::UsernameTaken) => {
            let found = users
                .find_credentials_by_email(&email)
                .await
                .map_err(|e| e.to_string())?;
            match found {
                Some(credentials) if credentials.user.role == Role::Tutor => {
                    Ok(credentials.user.id)
                }
                _ => Err(format!(
                    "{SEED_TUTOR_EMAIL} or the username seed-tutor belongs to a user who is \
                     not a tutor: seed an empty store"
                )),
            }
        }
        Err(error) => Err(error.to_string()),
    }
}

/// The last line of `reserva seed catalog`.
#[must_use]
pub fn seed_summary(report: &SeedReport, took: Duration) -> String {
    let seconds = took.as_secs_f64();
    #[expect(
        clippy::cast_precision_loss,
        reason = "a rate for people to read: row counts far below 2^52"
    )]
    let rate = report.rows() as f64 / seconds.max(1e-9);
    format!(
        "seeded {} test(s), {} course(s), {} user(s), {} registration(s): {} rows in {seconds:.1} s \
         ({rate:.0} rows/s)\nsearch words (each in about 10 % of titles): {}",
        report.tests,
        report.courses,
        report.users,
        report.registrations,
        report.rows(),
        SUBJECT_WORDS.join(" ")
    )
}

/// How the progress is shown: a bar per stage on a terminal, plain lines otherwise.
struct Display {
    bar: Option<ProgressBar>,
    show_bar: bool,
    lines: PlainLines,
}

impl Display {
    const fn new(show_bar: bool) -> Self {
        Self {
            bar: None,
            show_bar,
            lines: PlainLines::new(),
        }
    }

    fn show(&mut self, step: SeedProgress) {
        if !self.show_bar {
            if let Some(line) = self.lines.line(step) {
                eprintln!("{line}");
            }
            return;
        }
        if step.done == 0 {
            if let Some(bar) = self.bar.take() {
                bar.finish();
            }
            let bar = ProgressBar::new(step.total);
            let style = ProgressStyle::with_template(
                "{prefix:>13} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(step.stage.as_str());
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(step.done);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// The plain progress lines: each stage's start, every tenth of it, and its end.
#[derive(Debug)]
struct PlainLines {
    stage: Option<SeedStage>,
    tenths: u64,
}

impl PlainLines {
    const fn new() -> Self {
        Self {
            stage: None,
            tenths: 0,
        }
    }

    /// The line to print for `step`, if any.
    fn line(&mut self, step: SeedProgress) -> Option<String> {
        let tenths = (step.done.saturating_mul(10))
            .checked_div(step.total)
            .unwrap_or(10);
        if self.stage == Some(step.stage) && tenths == self.tenths {
            return None;
        }
        self.stage = Some(step.stage);
        self.tenths = tenths;
        Some(format!(
            "{}: {} / {}",
            step.stage.as_str(),
            step.done,
            step.total
        ))
    }
}

/// Runs the catalog audit over `registrations`: prints it; `Ok(true)` when clean.
///
/// # Errors
/// A message for the operator when the store cannot be audited.
pub async fn catalog_verify_with(
    registrations: &dyn RegistrationRepository,
) -> Result<bool, String> {
    let audit = registrations
        .verify_catalog()
        .await
        .map_err(|e| e.to_string())?;
    print!("{}", catalog_audit_report(&audit));
    Ok(audit.violations.is_empty())
}

/// The `reserva catalog verify` report: what was checked, each violation, the verdict.
fn catalog_audit_report(audit: &CatalogAudit) -> String {
    let mut report = format!(
        "catalog: {} item(s) checked, {} violation(s)\n",
        audit.items_checked,
        audit.violations.len()
    );
    for violation in &audit.violations {
        let _ = writeln!(report, "  catalog violation: {violation}");
    }
    report.push_str(if audit.violations.is_empty() {
        "clean\n"
    } else {
        "VIOLATIONS FOUND\n"
    });
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(stage: SeedStage, done: u64, total: u64) -> SeedProgress {
        SeedProgress { stage, done, total }
    }

    #[test]
    fn plain_progress_prints_each_stage_start_every_tenth_and_end() {
        let mut lines = PlainLines::new();
        let mut printed = Vec::new();
        for done in (0..=1_000).step_by(50) {
            printed.extend(lines.line(step(SeedStage::Tests, done, 1_000)));
        }
        let expected: Vec<String> = (0..=10)
            .map(|tenth| format!("tests: {} / 1000", tenth * 100))
            .collect();
        assert_eq!(printed, expected);
        // A stage of nothing, and one batch that jumps past several tenths.
        assert_eq!(
            lines.line(step(SeedStage::Users, 0, 0)),
            Some("users: 0 / 0".to_owned())
        );
        assert_eq!(
            lines.line(step(SeedStage::Registrations, 0, 50)),
            Some("registrations: 0 / 50".to_owned())
        );
        assert_eq!(
            lines.line(step(SeedStage::Registrations, 50, 50)),
            Some("registrations: 50 / 50".to_owned())
        );
        assert_eq!(lines.line(step(SeedStage::Registrations, 50, 50)), None);
    }

    #[test]
    fn the_summary_gives_rows_time_rate_and_the_search_words() {
        let report = SeedReport {
            tests: 1_000,
            courses: 500,
            users: 10,
            registrations: 50,
        };
        let summary = seed_summary(&report, Duration::from_millis(2_000));
        assert!(
            summary.starts_with(
                "seeded 1000 test(s), 500 course(s), 10 user(s), 50 registration(s): 1560 rows \
                 in 2.0 s (780 rows/s)\n"
            ),
            "{summary}"
        );
        assert!(summary.ends_with("kubernetes graphql terraform elixir haskell kafka webassembly tensorflow flutter solidity"), "{summary}");
    }

    #[test]
    fn the_catalog_audit_lists_every_violation_and_ends_with_the_verdict() {
        let clean = catalog_audit_report(&CatalogAudit {
            items_checked: 7,
            violations: vec![],
        });
        assert_eq!(clean, "catalog: 7 item(s) checked, 0 violation(s)\nclean\n");
        let broken = catalog_audit_report(&CatalogAudit {
            items_checked: 7,
            violations: vec!["item 1 counts 3, has 2 live registrations".into()],
        });
        assert!(
            broken.contains("  catalog violation: item 1 counts 3, has 2 live registrations\n"),
            "{broken}"
        );
        assert!(broken.ends_with("VIOLATIONS FOUND\n"), "{broken}");
    }

    #[test]
    fn the_seed_password_passes_the_password_policy() {
        assert!(PlainPassword::new(SEED_PASSWORD).is_ok());
    }
}
