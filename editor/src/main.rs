//! Entry point of the browser app; everything lives in the library.
fn main() {
    meshroute_editor::mount();
}
