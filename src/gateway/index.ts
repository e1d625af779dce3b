// The gateway's entry for the extension: bundled apart into dist/gateway.js, so activate() does not
// parse it; the extension loads it when the gateway starts or a chat model is first used.
export { dispatchContext, startGateway } from './server';
export { chatInProcess, InProcessChatError, modelListInProcess } from './inProcess';
