//! The server's parser, and the one conversion from its parse trees into
//! `confiture_core::ddl`.

pub mod convert;
pub mod parse;
pub mod state;
