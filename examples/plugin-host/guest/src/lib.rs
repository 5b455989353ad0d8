//! An example plugin for Tern's `examples/plugin-host`: it implements the
//! `plugin` world of `../wit/plugin.wit`.

wit_bindgen::generate!({ path: "../wit", world: "plugin" });

use example::plugin::host::{self, Level};

struct Plugin;

impl Guest for Plugin {
    fn greet(name: String) -> String {
        let style = host::config("greeting").unwrap_or_else(|| "Hello".to_string());
        host::log(Level::Info, &format!("greeting {name}"));
        format!("{style}, {name}!")
    }

    fn word_count(text: String) -> Result<Vec<(String, u32)>, String> {
        if text.trim().is_empty() {
            host::log(Level::Warn, "asked to count nothing");
            return Err("no words in the text".to_string());
        }
        let mut counts: Vec<(String, u32)> = Vec::new();
        for word in text.split_whitespace() {
            let word = word.to_lowercase();
            match counts.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => *n += 1,
                None => counts.push((word, 1)),
            }
        }
        Ok(counts)
    }
}

export!(Plugin);
