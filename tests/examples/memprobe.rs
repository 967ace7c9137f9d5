//! TEMP: sizes of the agent's parts.
use core::mem::size_of_val;
use tcbg::fixed::Fx;
use tcbg::*;
fn main() {
    let a: Agent<Fx, 8, 48, 4, 4> = Agent::new(Config::default(), 1).unwrap();
    println!("agent {}", size_of_val(&a));
    println!("actions {}", size_of_val(&a.actions));
    println!("context_channels {}", size_of_val(&a.context_channels));
    println!("contexts {}", size_of_val(&a.contexts));
    println!("critic {}", size_of_val(&a.critic));
    println!("striatal_input {}", size_of_val(&a.striatal_input));
    println!("striatum {}", size_of_val(&a.striatum));
    println!("cortex {}", size_of_val(&a.cortex));
    println!("thalamus {}", size_of_val(&a.thalamus));
}
