use pgrx::prelude::*;
::pgrx::pg_module_magic!(name, version);
#[pg_extern] fn hello() -> &'static str { "hi" }
