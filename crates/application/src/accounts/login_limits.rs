//! Login limits: how many password verdicts one client may get, so that guessing is slow and a
//! guesser cannot lock the real user out.
//!
//! Every attempt is counted *before* its password is checked (an atomic increment whose result
//! decides), so a burst of parallel guesses gets no more verdicts than a sequence would. Three
//! counters, checked narrowest-ruling-first so that a refused attempt never touches the wider ones:
//!
//! 1. the client address across all accounts (one guesser spraying many accounts),
//! 2. the account from that address (one guesser on one account; the owner elsewhere is
//!    unaffected),
//! 3. the account from every address, a high ceiling (many addresses on one account).
//!
//! The address is checked first so that a client over its limit creates no per-account keys: the
//! keys a client can make are bounded by its limit. A right password withdraws its attempt from
//! all three, so logging in often is never limited; failures stay counted until their window ends.

use super::Accounts;
use crate::DependencyError;
use reserva_domain::accounts::Email;
use std::net::IpAddr;
use std::time::Duration;

/// The limits, all over one fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Attempts on one account from one client address (5 by default).
    pub per_account_and_address: u32,
    /// Attempts from one client address across all accounts (20 by default).
    pub per_address: u32,
    /// Attempts on one account from all addresses together (100 by default): high enough that
    /// one guesser cannot reach it, so the owner can still log in from their own address.
    pub per_account: u32,
    /// The window every count lives in (15 minutes by default).
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account_and_address: 5,
            per_address: 20,
            per_account: 100,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// An admitted attempt: the password may be checked. These keys counted it, and a right
/// password withdraws it from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counted(Vec<String>);

/// An attempt over a limit: answer 429 without checking anything. Each use case's error has a
/// `From` for it, so a caller writes `admit_login_attempt(..).await??`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused {
    /// Seconds until the refusing window ends.
    pub retry_after_seconds: u64,
}

/// The part of a client address one limit covers: an IPv4 address, or the /56 network of an
/// IPv6 one (a single host is routinely given a whole /64 and a home a /56, so counting smaller
/// networks would give one guesser hundreds of buckets). IPv4-mapped IPv6 addresses count as
/// their IPv4 address.
fn address_bucket(client: IpAddr) -> String {
    match client.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{:x}::/56", d & 0xff00)
        }
    }
}

/// The three counter keys. Their parts are bounded (an address bucket; a validated e-mail, at
/// most 254 characters) and cannot be confused: each namespace has its own fixed prefix, and the
/// address bucket, made of hex digits, `.`, `:` and `/56` only, ends at the first `|`.
fn keys(email: &Email, client: IpAddr) -> [String; 3] {
    let bucket = address_bucket(client);
    [
        format!("login:address:{bucket}"),
        format!("login:address-account:{bucket}|{email}"),
        format!("login:account:{email}"),
    ]
}

impl Accounts {
    /// Counts one attempt on `email` from `client` against every limit, narrowest-ruling first.
    /// `email: None` (a malformed e-mail: no account can match) counts against the address only.
    pub(super) async fn admit_login_attempt(
        &self,
        email: Option<&Email>,
        client: IpAddr,
    ) -> Result<Result<Counted, Refused>, DependencyError> {
        let limits = self.policy.login_limits;
        let [address, pair, account] = match email {
            Some(email) => keys(email, client).map(Some),
            None => [
                Some(format!("login:address:{}", address_bucket(client))),
                None,
                None,
            ],
        };
        let checks = [
            (address, limits.per_address),
            (pair, limits.per_account_and_address),
            (account, limits.per_account),
        ];
        let mut counted = Vec::with_capacity(3);
        for (key, limit) in checks {
            let Some(key) = key else { continue };
            let count = self.ports.rate_limiter.hit(&key, limits.window).await?;
            if count.hits > limit {
                // A refused attempt gets no verdict: it must not use up the counts before the
                // one that refused it (an owner retrying while an account is besieged elsewhere
                // would otherwise lock their own address out for longer than the siege).
                self.withdraw_login_attempt(&Counted(counted)).await?;
                return Ok(Err(Refused {
                    retry_after_seconds: count.resets_in.as_secs().max(1),
                }));
            }
            counted.push(key);
        }
        Ok(Ok(Counted(counted)))
    }

    /// Takes back an admitted attempt whose password was right: it was no guess.
    pub(super) async fn withdraw_login_attempt(
        &self,
        counted: &Counted,
    ) -> Result<(), DependencyError> {
        for key in &counted.0 {
            self.ports.rate_limiter.withdraw(key).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::Fixture;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn email(text: &str) -> Email {
        Email::parse(text).unwrap_or_else(|_| panic!("{text} is a valid e-mail"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn ipv6_clients_are_limited_per_56_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_bucket(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(address_bucket(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            address_bucket(ip("2001:db8:1:2:aaaa::1")),
            address_bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_eq!(
            address_bucket(ip("2001:db8:1:2::1")),
            address_bucket(ip("2001:db8:1:ff::1")),
            "one /56, as a home is given"
        );
        assert_ne!(
            address_bucket(ip("2001:db8:1:2::1")),
            address_bucket(ip("2001:db8:1:102::1"))
        );
        assert_eq!(
            address_bucket(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "0:0:0:0::/56"
        );
    }

    #[test]
    fn keys_are_bounded_and_never_shared_across_namespaces_or_clients() {
        let longest = format!("{}@{}.com", "a".repeat(64), "b".repeat(185));
        let all = [
            keys(&email("ann@example.com"), ip("10.0.0.1")),
            keys(&email("ann@example.com"), ip("10.0.0.2")),
            keys(&email("bob@example.com"), ip("10.0.0.1")),
            keys(&email("1@example.com"), ip("10.0.0.1")),
            keys(&email(&longest), ip("2001:db8::1")),
        ];
        let mut flat: Vec<&String> = all.iter().flatten().collect();
        assert!(flat.iter().all(|key| key.len() <= 320), "{flat:?}");
        flat.sort();
        flat.dedup();
        // Shared only where they should be: the address key of 10.0.0.1 (three times) and the
        // account key of ann (twice).
        assert_eq!(flat.len(), 15 - 2 - 1);
    }

    #[tokio::test]
    async fn a_refused_attempt_does_not_reach_the_wider_counters() {
        let fixture = Fixture::new();
        let limiter = fixture.rate_limiter.clone();
        let accounts = fixture.accounts();
        let ann = email("ann@example.com");
        for _ in 0..7 {
            let _ = accounts
                .admit_login_attempt(Some(&ann), ip("10.0.0.1"))
                .await;
        }
        let [address, pair, account] = keys(&ann, ip("10.0.0.1"));
        assert_eq!(
            (
                limiter.count(&address),
                limiter.count(&pair),
                limiter.count(&account)
            ),
            (5, 7, 5),
            "a refused attempt gives back the address count it took, and the account-wide count \
             only grows by what the pair limit let through"
        );
    }

    #[tokio::test]
    async fn a_malformed_email_counts_against_the_address_only() {
        let fixture = Fixture::new();
        let limiter = fixture.rate_limiter.clone();
        let admitted = fixture
            .accounts()
            .admit_login_attempt(None, ip("10.0.0.9"))
            .await;
        let expected = vec!["login:address:10.0.0.9".to_owned()];
        assert_eq!(admitted, Ok(Ok(Counted(expected))));
        assert_eq!(limiter.total(), 1);
    }
}
