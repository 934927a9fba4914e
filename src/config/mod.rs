//! App configuration: `routes.yml` as parsed ([`RoutesFile`]), with the line of every
//! entry so that later validation can point at it.

mod error;
mod routes_file;

pub use error::ConfigError;
pub use routes_file::{LayoutChoice, RouteEntry, RouteSpec, RoutesFile};
