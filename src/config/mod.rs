//! App configuration: `routes.yml` as parsed ([`RoutesFile`]), with the line of every
//! entry so that later validation can point at it.

mod error;
mod routes_file;

pub(crate) use error::ConfigError;
pub(crate) use routes_file::{LayoutChoice, RoutesFile};
