//! Unix: lecteurd's socket.

/// A blocking connection to lecteurd: its Unix socket.
pub type Stream = std::os::unix::net::UnixStream;

/// A daemon of one connection at a fresh path, answering each request line
/// with the given lines; hands back what it read.
#[cfg(test)]
pub(crate) fn one_connection_server(
    answers: Vec<Vec<&'static str>>,
) -> (std::path::PathBuf, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let dir = std::env::temp_dir().join(format!(
        "lecteur-client-test-{}-{}",
        std::process::id(),
        answers.len()
    ));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("s");
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut seen = Vec::new();
        for lines in answers {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push(line);
            for l in lines {
                writer.write_all(format!("{l}\n").as_bytes()).unwrap();
            }
        }
        seen
    });
    (path, server)
}
