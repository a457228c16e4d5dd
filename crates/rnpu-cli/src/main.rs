fn main() {
    println!("rnpu: CLI being written");
}
