// The usage & budget panel (runs in the webview). Implemented in src/webview/.
