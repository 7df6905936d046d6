//! The integration tests of crm-rules, through the public API only.

mod common;
mod compile_errors;
mod conditions;
mod engine;
mod engine_properties;
mod engine_scoring;
mod examples;
mod loading;
mod properties;
mod quality;
mod scenarios;
mod schema;
mod scoring;
mod time;
mod time_properties;
mod values;
