// Export Usage: this workspace's usage history as CSV or JSON, to a file the user picks or names.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { dayKey } from '../../core/calendar';
import { exportFileName, type ExportFormat } from '../../core/exportUsage';
import type { Args } from './args';
import { cancel, toUri, type CommandContext, type Result } from './shared';

export async function exportUsage(ctx: CommandContext, a: Args<'exportUsageArgs'>): Promise<Result> {
  let format: ExportFormat | undefined = a.format;
  let uri: vscode.Uri;
  if (a.uri) {
    uri = toUri(a.uri);
    format ??= uri.path.toLowerCase().endsWith('.json') ? 'json' : 'csv';
  } else {
    format ??=
      (
        await vscode.window.showQuickPick(
          [
            { label: 'CSV', description: 'one row per day, provider and model', id: 'csv' as const },
            { label: 'JSON', description: 'totals and the same rows', id: 'json' as const },
          ],
          { title: 'Export usage as' },
        )
      )?.id ?? cancel();
    const name = exportFileName(format, dayKey(ctx.core.clock.now(), ctx.core.timeZone));
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    uri =
      (await vscode.window.showSaveDialog({
        title: 'Export usage',
        saveLabel: 'Export',
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      })) ?? cancel();
  }
  const { text, rows } = ctx.core.exportUsage(format);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  ctx.log.info(`exported ${rows} usage rows (${format}) to ${uri.toString()}`);
  void vscode.window.showInformationMessage(`Exported ${rows} usage rows to ${path.basename(uri.path)}.`, 'Open').then((c) => {
    if (c) void vscode.window.showTextDocument(uri);
  });
  return { uri: uri.toString(), path: uri.scheme === 'file' ? uri.fsPath : undefined, format, rows };
}
