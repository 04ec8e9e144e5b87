//! Prints where the example's pods went.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (pod, r) in rightsizer_example_user_plugins::run()? {
        match r {
            Ok(node) => println!("{pod} -> {node}"),
            Err(why) => println!("{pod} unschedulable: {why}"),
        }
    }
    Ok(())
}
