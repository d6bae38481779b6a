//! The `reserva` binary's library: configuration, wiring of adapters to use cases, the CLI's
//! commands, and start-up and shutdown. Black-box tests start the real server through
//! [`Application`].

pub mod application;
pub mod cli;
mod jobs;
mod limits;
pub mod settings;
mod stores;
pub mod telemetry;

pub use application::{Application, StartupError};
pub use reserva_application::ports::system::Clock;
pub use settings::{Secret, Settings};
