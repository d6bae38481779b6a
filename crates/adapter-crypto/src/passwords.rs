//! Argon2id password hashing, run on the blocking thread pool so slow hashes never stall requests.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use reserva_application::DependencyError;
use reserva_application::ports::security::PasswordHasher;
use reserva_domain::accounts::{PasswordHash, PlainPassword};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane) unless told otherwise.
#[derive(Clone)]
pub struct Argon2PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the e-mail is unknown (equal timing).
    decoy: Arc<OnceLock<String>>,
    /// At most one hash per core at a time. Each hash takes 19 MiB; without a bound a burst of
    /// logins runs one per blocking thread, and the allocator keeps every thread's 19 MiB
    /// (measured: 350 MB resident after a wrk run that followed 200 logins).
    permits: Arc<Semaphore>,
}

fn permits() -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    Arc::new(Semaphore::new(cores))
}

impl Default for Argon2PasswordHasher {
    fn default() -> Self {
        Self {
            params: Params::default(),
            decoy: Arc::new(OnceLock::new()),
            permits: permits(),
        }
    }
}

fn failed(error: impl std::fmt::Display) -> DependencyError {
    DependencyError::Failed(format!("password hashing: {error}"))
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(params: Params, password: &[u8]) -> Result<String, DependencyError> {
    argon2(params)
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(failed)
}

fn verify_blocking(params: Params, password: &[u8], phc: &str) -> Result<bool, DependencyError> {
    match argon2(params).verify_password(password, phc) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(error) => Err(failed(error)),
    }
}

async fn blocking<T: Send + 'static>(
    permits: &Arc<Semaphore>,
    work: impl FnOnce() -> Result<T, DependencyError> + Send + 'static,
) -> Result<T, DependencyError> {
    let permit = permits.clone().acquire_owned().await.map_err(failed)?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(failed)?
}

impl Argon2PasswordHasher {
    /// A hasher with custom cost parameters (memory in KiB, passes, lanes).
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when argon2 rejects the parameters.
    pub fn with_cost(memory_kib: u32, passes: u32, lanes: u32) -> Result<Self, DependencyError> {
        let params = Params::new(memory_kib, passes, lanes, None).map_err(failed)?;
        Ok(Self {
            params,
            decoy: Arc::new(OnceLock::new()),
            permits: permits(),
        })
    }

    async fn decoy(&self) -> Result<String, DependencyError> {
        if let Some(decoy) = self.decoy.get() {
            return Ok(decoy.clone());
        }
        let params = self.params.clone();
        let decoy = blocking(&self.permits, move || {
            hash_blocking(params, uuid::Uuid::new_v4().as_bytes())
        })
        .await?;
        Ok(self.decoy.get_or_init(|| decoy).clone())
    }
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &PlainPassword) -> Result<PasswordHash, DependencyError> {
        let (params, password) = (self.params.clone(), password.expose().to_owned());
        let phc = blocking(&self.permits, move || {
            hash_blocking(params, password.as_bytes())
        })
        .await?;
        Ok(PasswordHash::from_phc(phc))
    }

    async fn verify(
        &self,
        password: &PlainPassword,
        hash: &PasswordHash,
    ) -> Result<bool, DependencyError> {
        let (params, password) = (self.params.clone(), password.expose().to_owned());
        let phc = hash.as_phc().to_owned();
        blocking(&self.permits, move || {
            verify_blocking(params, password.as_bytes(), &phc)
        })
        .await
    }

    async fn verify_nothing(&self, password: &PlainPassword) -> Result<(), DependencyError> {
        let decoy = PasswordHash::from_phc(self.decoy().await?);
        self.verify(password, &decoy).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(raw: &str) -> PlainPassword {
        PlainPassword::new(raw).expect("valid test password")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn hashes_are_salted_argon2id_and_verify_only_the_right_password() {
        let hasher = Argon2PasswordHasher::default();
        let first = hasher.hash(&password("secret123")).await.expect("hash");
        let second = hasher.hash(&password("secret123")).await.expect("hash");
        assert!(
            first
                .as_phc()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert_eq!(
            hasher.verify(&password("secret123"), &first).await,
            Ok(true)
        );
        assert_eq!(
            hasher.verify(&password("secret124"), &first).await,
            Ok(false)
        );
        assert_eq!(hasher.verify_nothing(&password("secret123")).await, Ok(()));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_corrupt_hash_is_a_failure_not_a_match() {
        let hasher = Argon2PasswordHasher::default();
        let corrupt = PasswordHash::from_phc("not-a-phc-string".into());
        let result = hasher.verify(&password("secret123"), &corrupt).await;
        assert!(matches!(result, Err(DependencyError::Failed(_))));
    }
}
