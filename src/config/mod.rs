//! App configuration: `routes.yml` as parsed ([`RoutesFile`]), with the line of every
//! entry so that later validation can point at it, and the app's settings in `fymo.yml`
//! ([`AppFile`]).

mod app_file;
mod cache_dir;
mod error;
mod routes_file;

pub(crate) use app_file::{AppFile, CspSetting, SessionSettings, SessionStoreKind, APP_FILE};
pub(crate) use cache_dir::cache_dir;
pub(crate) use error::ConfigError;
pub(crate) use routes_file::{
    valid_topic, CacheRule, LayoutChoice, RouteOptions, RoutesFile, UploadLimits, Vary, ROUTES_FILE,
};
