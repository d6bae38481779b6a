//! The shared-state conformance suite, run against the in-memory adapter.

reserva_conformance::shared_state_tests!(async {
    reserva_adapter_memory::MemorySharedState::new()
});
