//! `HealthProbe`: in-process state is up whenever the process is, so readiness never waits on it.

use crate::MemorySharedState;
use async_trait::async_trait;
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;

#[async_trait]
impl HealthProbe for MemorySharedState {
    fn component(&self) -> &'static str {
        "shared_state"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probe_is_shared_state_and_always_up() {
        let state = MemorySharedState::new();
        assert_eq!(state.component(), "shared_state");
        assert_eq!(state.ping().await, Ok(()));
    }
}
