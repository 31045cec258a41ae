//! anyray: the developer's side of the Anyray gateway.
#[doc(hidden)]
pub mod fake_gateway;
