//! The route table: `routes.yml` validated against the app's templates and controllers,
//! and matching of request paths to routes.

mod table;

pub(crate) use table::{Matched, Route, RouteTable};
