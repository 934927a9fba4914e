//! Product list and detail: the pages the benchmark serves.

use fymo::{BoxError, Outcome, RequestContext};
use serde::Serialize;

#[derive(Serialize)]
struct Product {
    id: u32,
    name: String,
    price: f64,
    tags: Vec<&'static str>,
    description: String,
}

fn product(id: u32) -> Product {
    const TAGS: [&str; 4] = ["new", "sale", "eco", "gift"];
    Product {
        id,
        name: format!("Product {id}"),
        price: f64::from(id % 200) * 1.25 + 0.99,
        tags: TAGS.iter().copied().take((id % 3) as usize).collect(),
        description: format!("Product {id} is a fine <thing> & worth every cent."),
    }
}

/// `GET /products?n=1000`: a list of `n` products (default 10, at most 10 000).
pub(crate) async fn index(req: RequestContext) -> Result<Outcome, BoxError> {
    let n: u32 = req.query_as("n")?.unwrap_or(10).min(10_000);
    // The structs themselves: `Outcome::props` turns them into JSON once (a `Value` made
    // first would be copied over again).
    Ok(Outcome::props(product_list(n))?)
}

fn product_list(n: u32) -> ProductList {
    ProductList { products: (1..=n).map(product).collect(), total: n }
}

#[derive(Serialize)]
struct ProductList {
    products: Vec<Product>,
    total: u32,
}

/// The product list page's props for `n` products (also what `benches/engines.rs` renders).
#[allow(dead_code)] // used by benches/engines.rs, which includes this file
pub(crate) fn list(n: u32) -> serde_json::Value {
    serde_json::to_value(product_list(n)).expect("products serialize")
}

/// `GET /products/{id}`: one product; 404 for ids that are not numbers or out of range.
pub(crate) async fn show(req: RequestContext) -> Result<Outcome, BoxError> {
    match req.param("id").and_then(|id| id.parse::<u32>().ok()) {
        Some(id) if (1..=10_000).contains(&id) => Ok(Outcome::props(serde_json::json!({ "product": product(id) }))?),
        _ => Ok(Outcome::not_found()),
    }
}

/// `GET /api/products/{id}`: the same data as JSON (a route without a template).
pub(crate) async fn api(req: RequestContext) -> Result<Outcome, BoxError> {
    show(req).await
}
