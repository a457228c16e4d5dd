//! Print `rnpu_delegate::digest::render` of each `.tflite` given, as read by
//! `rnpu_model::load_file` — the reference the delegate's graph intake is compared with
//! (tools/delegate_test.py). Output: `=== <path>` then the rendering, or `ERROR <message>`.

fn main() {
    for path in std::env::args().skip(1) {
        println!("=== {path}");
        match rnpu_model::load_file(std::path::Path::new(&path)) {
            Ok(m) => print!("{}", rnpu_delegate::digest::render(&m)),
            Err(e) => println!("ERROR {e}"),
        }
    }
}
