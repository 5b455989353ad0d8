//! A command component for `tern run`: each argument names a check, whose
//! result it prints on its own line, so a test can assert exactly what the
//! host provided.
//!
//! - `args`: the arguments after the program name, joined by spaces
//! - `env NAME`: the variable's value, or `<unset>`
//! - `stdin`: the number of bytes on standard input and their sum mod 256
//! - `stderr TEXT`: TEXT on standard error
//! - `clocks`: whether the monotonic clock advances and the wall clock is
//!   after 2020
//! - `random`: whether 32 random bytes are not all equal
//! - `write PATH TEXT`: writes TEXT to the file PATH
//! - `append PATH TEXT`: appends TEXT to the file PATH
//! - `read PATH`: the file's contents, or the error
//! - `ls DIR`: the names in DIR, sorted, with `/` after directories
//! - `mkdir PATH`, `rm PATH`, `rmdir PATH`, `mv FROM TO`: done, or the error
//! - `size PATH`: the file's size
//! - `tcp ADDR`: connects to ADDR, sends `ping\n`, prints the reply line
//! - `udp ADDR`: binds 127.0.0.1:0 and prints the bound address; sends
//!   `ping` to ADDR and prints the reply and its source; then connects to
//!   ADDR, sends `again` and prints the reply and the peer address
//! - `lookup NAME`: the first address NAME resolves to, or the error
//! - `exit CODE`: exits with CODE
//! - `panic`: panics (the component traps)

use std::hash::BuildHasher;
use std::io::{Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut rest = args.iter().skip(1);
    while let Some(check) = rest.next() {
        match check.as_str() {
            "args" => println!("args: {}", args[1..].join(" ")),
            "env" => {
                let name = rest.next().expect("env NAME");
                let value = std::env::var(name).unwrap_or_else(|_| "<unset>".into());
                println!("env {name}: {value}");
            }
            "stdin" => {
                let mut input = Vec::new();
                std::io::stdin().read_to_end(&mut input).expect("stdin reads");
                let sum = input.iter().fold(0u8, |a, b| a.wrapping_add(*b));
                println!("stdin: {} bytes, sum {sum}", input.len());
            }
            "stderr" => {
                let text = rest.next().expect("stderr TEXT");
                eprintln!("{text}");
            }
            "clocks" => {
                let start = Instant::now();
                let mut spin = 0u64;
                while start.elapsed().as_nanos() == 0 {
                    spin += 1;
                }
                let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                println!(
                    "clocks: monotonic advances {}, wall after 2020 {}",
                    spin < u64::MAX,
                    since.as_secs() > 1_577_836_800
                );
            }
            "random" => {
                let mut seen = std::collections::HashSet::new();
                for _ in 0..4 {
                    seen.insert(std::collections::hash_map::RandomState::new().hash_one(1u8));
                }
                println!("random: distinct {}", seen.len() > 1);
            }
            "write" | "append" => {
                let (path, text) = (rest.next().unwrap(), rest.next().unwrap());
                let result = if check == "write" {
                    std::fs::write(path, text)
                } else {
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open(path)
                        .and_then(|mut f| f.write_all(text.as_bytes()))
                };
                println!("{check} {path}: {}", outcome(result));
            }
            "read" => {
                let path = rest.next().unwrap();
                match std::fs::read_to_string(path) {
                    Ok(text) => println!("read {path}: {text}"),
                    Err(e) => println!("read {path}: error {:?}", e.kind()),
                }
            }
            "ls" => {
                let dir = rest.next().unwrap();
                match std::fs::read_dir(dir) {
                    Ok(entries) => {
                        let mut names: Vec<String> = entries
                            .map(|e| {
                                let e = e.unwrap();
                                let slash = if e.file_type().unwrap().is_dir() { "/" } else { "" };
                                format!("{}{slash}", e.file_name().to_string_lossy())
                            })
                            .collect();
                        names.sort();
                        println!("ls {dir}: {}", names.join(" "));
                    }
                    Err(e) => println!("ls {dir}: error {:?}", e.kind()),
                }
            }
            "mkdir" => {
                let path = rest.next().unwrap();
                println!("mkdir {path}: {}", outcome(std::fs::create_dir(path)));
            }
            "rm" => {
                let path = rest.next().unwrap();
                println!("rm {path}: {}", outcome(std::fs::remove_file(path)));
            }
            "rmdir" => {
                let path = rest.next().unwrap();
                println!("rmdir {path}: {}", outcome(std::fs::remove_dir(path)));
            }
            "mv" => {
                let (from, to) = (rest.next().unwrap(), rest.next().unwrap());
                println!("mv {from} {to}: {}", outcome(std::fs::rename(from, to)));
            }
            "size" => {
                let path = rest.next().unwrap();
                match std::fs::metadata(path) {
                    Ok(m) => println!("size {path}: {}", m.len()),
                    Err(e) => println!("size {path}: error {:?}", e.kind()),
                }
            }
            "tcp" => {
                let addr = rest.next().unwrap();
                match std::net::TcpStream::connect(addr) {
                    Ok(mut stream) => {
                        stream.write_all(b"ping\n").unwrap();
                        let mut reply = String::new();
                        std::io::BufRead::read_line(
                            &mut std::io::BufReader::new(&stream),
                            &mut reply,
                        )
                        .unwrap();
                        println!("tcp {addr}: {}", reply.trim_end());
                    }
                    Err(e) => println!("tcp {addr}: error {:?}", e.kind()),
                }
            }
            "udp" => {
                let addr = rest.next().unwrap();
                if let Err(e) = udp(addr) {
                    println!("udp {addr}: error {:?}", e.kind());
                }
            }
            "lookup" => {
                let name = rest.next().unwrap();
                match std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 80)) {
                    Ok(mut addrs) => println!("lookup {name}: {:?}", addrs.next().map(|a| a.ip())),
                    Err(e) => println!("lookup {name}: error {:?}", e.kind()),
                }
            }
            "exit" => {
                let code: i32 = rest.next().expect("exit CODE").parse().expect("a number");
                std::io::stdout().flush().unwrap();
                std::process::exit(code);
            }
            "panic" => panic!("asked to panic"),
            other => println!("unknown check {other}"),
        }
    }
}

/// The `udp ADDR` check, its lines printed as it goes.
fn udp(addr: &str) -> std::io::Result<()> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    println!("udp local: {}", socket.local_addr()?);
    let mut buf = [0; 64];
    socket.send_to(b"ping", addr)?;
    let (n, from) = socket.recv_from(&mut buf)?;
    println!("udp {addr}: {} from {from}", String::from_utf8_lossy(&buf[..n]));
    socket.connect(addr)?;
    socket.send(b"again")?;
    let n = socket.recv(&mut buf)?;
    let peer = socket.peer_addr()?;
    println!("udp {addr}: {} from peer {peer}", String::from_utf8_lossy(&buf[..n]));
    Ok(())
}

fn outcome(result: std::io::Result<()>) -> String {
    match result {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("error {:?}", e.kind()),
    }
}
