// The extension manifest's contributions: palette visibility, the panel's title buttons, the
// keybinding and the chat participant's disambiguation.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHAT_COMMANDS, pickChatCommand as pickCommand } from '../src/vscode/chat/commands';
import { PROVIDERS } from '../src/core/providers';

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}
interface Manifest {
  contributes: {
    configuration: { properties: Record<string, { type: string; items?: { enum?: string[] } }> };
    commands: { command: string; title: string; icon?: string }[];
    menus?: Record<string, MenuItem[]>;
    keybindings?: { command: string; key: string; mac?: string; when?: string }[];
    chatParticipants: {
      id: string;
      commands?: { name: string; description: string; sampleRequest?: string }[];
      disambiguation?: { category: string; description: string; examples: string[] }[];
    }[];
    walkthroughs?: {
      id: string;
      title: string;
      steps: { id: string; title: string; description: string; media: { markdown?: string; image?: string; altText?: string }; completionEvents?: string[] }[];
    }[];
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const c = manifest.contributes;
const PANEL_ACTIVE = "activeWebviewPanelId == 'aiKeyManager.panel'";

describe('package.json contributions', () => {
  it('every catalog provider has its base-URL setting and can be disabled', () => {
    const props = c.configuration.properties;
    for (const p of PROVIDERS) assert.equal(props[p.settingKey]?.type, 'string', `no setting ${p.settingKey} for ${p.id}`);
    assert.deepEqual(props['aiKeyManager.providers.disabled'].items?.enum, PROVIDERS.map((p) => p.id));
  });

  it('menus only name contributed commands', () => {
    const known = new Set(c.commands.map((x) => x.command));
    for (const [menu, items] of Object.entries(c.menus ?? {})) {
      for (const item of items) assert.ok(known.has(item.command), `${menu} names ${item.command}, which is not contributed`);
    }
  });

  it('the palette hides only what cannot work in the current context', () => {
    const palette = Object.fromEntries((c.menus?.commandPalette ?? []).map((m) => [m.command, m.when]));
    assert.deepEqual(palette, {
      'aiKeyManager.removeKey': 'aiKeyManager.hasKeys',
      'aiKeyManager.rotateKey': 'aiKeyManager.hasKeys',
      'aiKeyManager.scanForLeakedKeys': 'workspaceFolderCount > 0',
      'aiKeyManager.restoreMovedKey': 'workspaceFolderCount > 0',
      'aiKeyManager.refreshPanel': PANEL_ACTIVE,
    });
  });

  it('the panel has refresh, export and budget buttons in its title bar', () => {
    const title = (c.menus?.['editor/title'] ?? []).filter((m) => m.when === PANEL_ACTIVE);
    const buttons = title.filter((m) => m.group?.startsWith('navigation')).map((m) => m.command);
    assert.deepEqual(buttons, ['aiKeyManager.refreshPanel', 'aiKeyManager.exportUsage', 'aiKeyManager.setBudget']);
    for (const id of buttons) assert.match(c.commands.find((x) => x.command === id)?.icon ?? '', /^\$\([a-z-]+\)$/, `${id} needs a codicon for its button`);
    assert.ok(!(c.menus?.['editor/title'] ?? []).some((m) => m.when !== PANEL_ACTIVE), 'no title buttons on other editors');
  });

  it('has a keybinding for the panel', () => {
    const kb = (c.keybindings ?? []).filter((k) => k.command === 'aiKeyManager.showPanel');
    // Not bound by VS Code 1.139 by default (checked against its default keybindings on Linux,
    // Windows and macOS); "u" for usage.
    assert.deepEqual(kb, [{ command: 'aiKeyManager.showPanel', key: 'ctrl+alt+u', mac: 'cmd+alt+u' }]);
  });

  it('lets Copilot hand key, usage, cost and routing questions to @keys, which understands each example', () => {
    const keys = c.chatParticipants.find((p) => p.id === 'aiKeyManager.keys');
    const [d] = keys?.disambiguation ?? [];
    assert.ok(d, 'no disambiguation for @keys');
    assert.match(d.category, /^[a-z_]+$/);
    assert.match(d.description, /API keys/);
    assert.ok(d.examples.includes('rotate my openai key'));
    const routed = Object.fromEntries(d.examples.map((e) => [e, pickCommand(e)?.command]));
    assert.deepEqual(routed, {
      'rotate my openai key': 'config',
      'add an Anthropic API key': 'config',
      'is my Gemini key still valid?': 'config',
      'how much did I spend on AI today?': 'usage',
      'what would 20k tokens cost on claude-sonnet?': 'costs',
      'am I over my AI budget this month?': 'costs',
      'which model should I use for code review?': 'route',
    });
  });

  it('contributes exactly the @keys slash commands the chat registry answers, with the same words', () => {
    const keys = c.chatParticipants.find((p) => p.id === 'aiKeyManager.keys');
    assert.deepEqual(
      keys?.commands,
      CHAT_COMMANDS.map((d) => ({ name: d.name, description: d.description, sampleRequest: d.sampleRequest })),
    );
  });

  it('has a getting-started walkthrough whose buttons, completion events and media all exist', () => {
    const [w] = c.walkthroughs ?? [];
    assert.ok(w, 'no walkthrough');
    assert.equal(w.id, 'gettingStarted', 'src/vscode/gettingStarted.ts opens it by this id');
    const known = new Set(c.commands.map((x) => x.command));
    assert.ok(known.has('aiKeyManager.gettingStarted'), 'a palette command opens it again');
    assert.equal(w.steps[0].id, 'addKey', 'adding a key is the first step');
    assert.deepEqual(w.steps[0].completionEvents, ['onContext:aiKeyManager.hasKeys']);
    for (const step of w.steps) {
      const buttons = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.equal(buttons.length, 1, `${step.id} has one button`);
      for (const id of buttons) assert.ok(known.has(id), `${step.id} runs ${id}, which is not contributed`);
      for (const e of step.completionEvents ?? []) {
        if (e.startsWith('onCommand:')) assert.ok(known.has(e.slice('onCommand:'.length)), `${step.id} completes on an unknown command: ${e}`);
      }
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && existsSync(join(__dirname, '..', '..', media)), `${step.id}: media ${media} is missing`);
      if (step.media.image) assert.ok(step.media.altText, `${step.id}: an image needs altText`);
    }
  });
});
