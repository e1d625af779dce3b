// Imported first: if Lit ever falls back to <style> elements (no constructable stylesheets), it
// stamps them with window.litNonce, which the CSP's style-src accepts. Reuse the script's nonce.
const script = document.currentScript as HTMLScriptElement | null;
if (script?.nonce) (window as unknown as { litNonce?: string }).litNonce = script.nonce;
export {};
