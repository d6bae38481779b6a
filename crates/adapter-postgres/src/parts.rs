//! Each product module's own state inside the store (the exams batch queues today), made by the
//! module itself on first use. The store struct holds no module's state, so a new module brings
//! its state along without touching the store or another module.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// One value per type, shared by every clone of the store.
#[derive(Default)]
pub(crate) struct ModuleStates {
    states: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl ModuleStates {
    /// The store's `State`, made by `init` the first time it is asked for.
    pub(crate) fn get_or_init<State: Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> State,
    ) -> Arc<State> {
        // Every call but the first per type only reads: shared, so requests do not queue here.
        // Nothing can panic while the lock is held but a failed allocation, which would leave
        // the map as it was: a poisoned lock is safe to take.
        let existing = |states: &HashMap<TypeId, Arc<dyn Any + Send + Sync>>| {
            states
                .get(&TypeId::of::<State>())
                .and_then(|state| Arc::clone(state).downcast::<State>().ok())
        };
        let read = self.states.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = existing(&read) {
            return state;
        }
        drop(read);
        let mut states = self.states.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = existing(&states) {
            return state;
        }
        let state = Arc::new(init());
        states.insert(TypeId::of::<State>(), state.clone());
        state
    }
}

#[cfg(test)]
mod tests {
    use super::ModuleStates;
    use std::sync::Arc;

    #[test]
    fn each_type_is_made_once_and_shared() {
        let states = ModuleStates::default();
        let first = states.get_or_init(|| 7_u32);
        let second = states.get_or_init(|| 8_u32);
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(*second, 7);
        assert_eq!(*states.get_or_init(|| "other type"), "other type");
    }
}
