//! The delegate's options, as LiteRT passes them: string keys and string values
//! (`load_delegate(path, {"device": "emulator", "cores": "2"})`).
//!
//! | key | values | default |
//! |---|---|---|
//! | `device` | `auto` (a kernel device if there is one, else the emulator), `emulator`, `cpu` (claimed partitions run on rnpu-ref: a testing aid), or an absolute device path such as `/dev/accel/accel0` (must exist) | `auto` |
//! | `cores` | `auto` or `1`..=the target's core count (3 on RK3588); validated, but has no effect yet: TFLite invokes an interpreter's partitions one after the other, so one interpreter keeps one core busy, and the mainline kernel cannot split one job over cores (nor share BOs between fds, kernel-uapi.md §2.2). Each interpreter opens its own fd per partition, so several interpreters in several threads already land on several cores | `auto` |
//! | `log_level` | `off`, `error`, `warn`, `info`, `debug` | `warn` |
//! | `cache_dir` | a directory for compiled programs; created when first written; must not be an existing non-directory | none (no cache) |
//!
//! An unknown key, a repeated key or a bad value is an error whose message names the key, the
//! value and what is accepted; `tflite_plugin_create_delegate` then returns NULL after passing
//! that message to `report_error` (Python raises `ValueError` with it).

use std::path::PathBuf;

use crate::DelegateError;

/// Which NPU the partitions will run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    /// The kernel's `rocket` device when present, else the emulator.
    Auto,
    /// rnpu-sim behind rnpu-driver's `EmulatedDevice`.
    Emulator,
    /// No NPU: the claimed partitions run on rnpu-ref's CPU kernels (bit-exact with TFLite's
    /// reference kernels). A testing aid: it checks the delegate's plumbing without the NPU.
    Cpu,
    /// A specific accel device node.
    Path(PathBuf),
}

/// How much the delegate writes to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// Parsed, validated options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub device: Device,
    /// NPU cores to use; `None` lets the runtime choose.
    pub cores: Option<u32>,
    pub log_level: LogLevel,
    pub cache_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            device: Device::Auto,
            cores: None,
            log_level: LogLevel::Warn,
            cache_dir: None,
        }
    }
}

pub const KEYS: [&str; 4] = ["device", "cores", "log_level", "cache_dir"];

fn bad(key: &str, value: &str, accepted: &str) -> DelegateError {
    DelegateError::Options(format!(
        "option {key}={value:?} is invalid: expected {accepted}"
    ))
}

impl Options {
    /// Parse key/value pairs in the order given.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Options, DelegateError> {
        let mut o = Options::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            let (key, value) = (k.as_ref(), v.as_ref());
            if seen.contains(&key) {
                return Err(DelegateError::Options(format!(
                    "option {key} is given twice"
                )));
            }
            match key {
                "device" => {
                    o.device = match value {
                        "auto" => Device::Auto,
                        "emulator" => Device::Emulator,
                        "cpu" => Device::Cpu,
                        p if p.starts_with('/') => {
                            let path = PathBuf::from(p);
                            if !path.exists() {
                                return Err(DelegateError::Options(format!(
                                    "option device={p:?}: no such device node"
                                )));
                            }
                            Device::Path(path)
                        }
                        _ => return Err(bad(
                            key,
                            value,
                            "auto, emulator, cpu or an absolute device path (/dev/accel/accelN)",
                        )),
                    }
                }
                "cores" => {
                    let max = rnpu_hw::Target::RK3588.cores;
                    o.cores = match value {
                        "auto" => None,
                        n => match n.parse::<u32>() {
                            Ok(c) if (1..=max).contains(&c) => Some(c),
                            _ => return Err(bad(key, value, &format!("auto or 1..={max}"))),
                        },
                    }
                }
                "log_level" => {
                    o.log_level = match value {
                        "off" => LogLevel::Off,
                        "error" => LogLevel::Error,
                        "warn" => LogLevel::Warn,
                        "info" => LogLevel::Info,
                        "debug" => LogLevel::Debug,
                        _ => return Err(bad(key, value, "off, error, warn, info or debug")),
                    }
                }
                "cache_dir" => {
                    if value.is_empty() {
                        return Err(bad(key, value, "a directory path"));
                    }
                    let path = PathBuf::from(value);
                    if path.exists() && !path.is_dir() {
                        return Err(DelegateError::Options(format!(
                            "option cache_dir={value:?} exists and is not a directory"
                        )));
                    }
                    o.cache_dir = Some(path);
                }
                _ => {
                    return Err(DelegateError::Options(format!(
                        "unknown option {key:?} (known: {})",
                        KEYS.join(", ")
                    )))
                }
            }
            seen.push(key);
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &[(&str, &str)]) -> Result<Options, DelegateError> {
        Options::parse(p)
    }

    #[test]
    fn defaults() {
        assert_eq!(parse(&[]).unwrap(), Options::default());
    }

    #[test]
    fn all_keys() {
        let dir = std::env::temp_dir();
        let o = parse(&[
            ("device", "emulator"),
            ("cores", "2"),
            ("log_level", "debug"),
            ("cache_dir", dir.to_str().unwrap()),
        ])
        .unwrap();
        assert_eq!(o.device, Device::Emulator);
        assert_eq!(o.cores, Some(2));
        assert_eq!(o.log_level, LogLevel::Debug);
        assert_eq!(o.cache_dir, Some(dir));
        assert_eq!(parse(&[("cores", "auto")]).unwrap().cores, None);
        assert_eq!(
            parse(&[("device", "/")]).unwrap().device,
            Device::Path("/".into())
        );
    }

    #[test]
    fn errors_name_key_and_value() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("colour", "red")], "unknown option \"colour\""),
            (&[("cores", "4")], "cores=\"4\""),
            (&[("cores", "0")], "cores=\"0\""),
            (&[("cores", "two")], "auto or 1..=3"),
            (&[("device", "npu")], "device=\"npu\""),
            (&[("device", "/dev/accel/accel99")], "no such device node"),
            (&[("log_level", "loud")], "log_level=\"loud\""),
            (&[("cache_dir", "")], "cache_dir"),
            (&[("cache_dir", "/proc/self/status")], "not a directory"),
            (&[("cores", "1"), ("cores", "2")], "given twice"),
        ];
        for (pairs, want) in cases {
            let e = parse(pairs).unwrap_err().to_string();
            assert!(e.contains(want), "{pairs:?}: {e:?} lacks {want:?}");
        }
    }
}
