//! Fixtures the fuzz targets share. Each target in `fuzz_targets/` names the
//! property it checks; `scripts/fuzz` runs them all for a bounded time.

pub mod fixed_keys;
