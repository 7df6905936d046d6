//! The integration tests of crm-rules, through the public API only.

mod common;
mod compile_errors;
mod conditions;
mod examples;
mod loading;
mod properties;
mod quality;
mod schema;
mod scoring;
mod values;
