import { ACCEPTED_EXTENSIONS } from '@app/shared';

/** A file to upload, with where it was inside a picked or dropped folder ('' when loose). */
export interface PickedFile {
  readonly file: File;
  readonly folderPath: string;
}

/** What came out of a pick or a drop: the files to send and how many were left out. */
export interface PickedFiles {
  readonly files: PickedFile[];
  /** Files inside folders that are not images or videos (by extension) or are hidden. */
  readonly skipped: number;
}

/**
 * Inside a folder only media files are taken (a folder of photos holds `.DS_Store`, `Thumbs.db`,
 * sidecar `.xmp` and `.json` files nobody meant to upload); a loose file is always sent, so the
 * server can say why it does not take it.
 */
export function isMediaName(name: string): boolean {
  if (name.startsWith('.')) return false;
  const dot = name.lastIndexOf('.');
  return dot > 0 && ACCEPTED_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}

/** Files from the picker: loose files as they are, a folder's (`webkitdirectory`) filtered. */
export function pickedFromInput(files: readonly File[]): PickedFiles {
  const picked: PickedFile[] = [];
  let skipped = 0;
  for (const file of files) {
    const path = file.webkitRelativePath ?? '';
    const folderPath = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (folderPath !== '' && !isMediaName(file.name)) skipped += 1;
    else picked.push({ file, folderPath });
  }
  return { files: picked, skipped };
}

/**
 * Files from a drop, folders walked to the bottom. The entries must be taken from the
 * DataTransfer during the drop event (they are gone afterwards); reading them is asynchronous.
 * Browsers without entries (no `webkitGetAsEntry`) give the loose files only.
 */
export async function pickedFromDrop(transfer: DataTransfer): Promise<PickedFiles> {
  const entries = Array.from(transfer.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null));
  if (entries.length === 0 || entries.some((entry) => entry === null)) return pickedFromInput(Array.from(transfer.files ?? []));
  const picked: PickedFile[] = [];
  let skipped = 0;
  for (const entry of entries as FileSystemEntry[]) {
    if (isFile(entry)) {
      picked.push({ file: await fileOf(entry), folderPath: '' });
      continue;
    }
    for await (const { file, folderPath } of walk(entry as FileSystemDirectoryEntry, entry.name)) {
      if (isMediaName(file.name)) picked.push({ file, folderPath });
      else skipped += 1;
    }
  }
  return { files: picked, skipped };
}

async function* walk(directory: FileSystemDirectoryEntry, path: string): AsyncGenerator<PickedFile> {
  const reader = directory.createReader();
  // readEntries answers in batches (100 in Chromium) until it answers with none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const entry of batch) {
      if (isFile(entry)) yield { file: await fileOf(entry), folderPath: path };
      else if (!entry.name.startsWith('.')) yield* walk(entry as FileSystemDirectoryEntry, `${path}/${entry.name}`);
    }
  }
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}
