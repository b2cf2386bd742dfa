import { isMediaName, pickedFromDrop, pickedFromInput } from './picked-files';

const file = (name: string, relativePath = ''): File => {
  const value = new File(['x'], name);
  Object.defineProperty(value, 'webkitRelativePath', { value: relativePath });
  return value;
};

/** A dropped folder as the File and Directory Entries API gives it (Chromium reads entries in batches). */
function directory(name: string, children: FileSystemEntry[]): FileSystemDirectoryEntry {
  const batches = [children.slice(0, 2), children.slice(2), []];
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader: () => ({ readEntries: (resolve: (entries: FileSystemEntry[]) => void) => resolve(batches.shift() ?? []) }),
  } as unknown as FileSystemDirectoryEntry;
}
function fileEntry(name: string): FileSystemFileEntry {
  return {
    isFile: true,
    isDirectory: false,
    name,
    file: (resolve: (file: File) => void) => resolve(file(name)),
  } as unknown as FileSystemFileEntry;
}
function transferOf(entries: FileSystemEntry[], files: File[] = []): DataTransfer {
  return {
    items: entries.map((entry) => ({ kind: 'file', webkitGetAsEntry: () => entry })),
    files,
  } as unknown as DataTransfer;
}

describe('picked files', () => {
  it('knows media by extension, and hidden files are never media', () => {
    expect(['a.JPG', 'b.mp4', 'c.webm'].map(isMediaName)).toEqual([true, true, true]);
    expect(['notes.txt', '.DS_Store', '.hidden.jpg', 'noextension'].map(isMediaName)).toEqual([false, false, false, false]);
  });

  it('from the picker: loose files as they are, a folder’s without what is not media', () => {
    const picked = pickedFromInput([
      file('notes.txt'),
      file('a.jpg', 'Trip/a.jpg'),
      file('x.xmp', 'Trip/x.xmp'),
      file('b.mov', 'Trip/Day 2/b.mov'),
    ]);
    expect(picked.files.map(({ file: f, folderPath }) => [f.name, folderPath])).toEqual([
      ['notes.txt', ''],
      ['a.jpg', 'Trip'],
      ['b.mov', 'Trip/Day 2'],
    ]);
    expect(picked.skipped).toBe(1);
  });

  it('from a drop: folders walked to the bottom, batch by batch, hidden folders skipped', async () => {
    const trip = directory('Trip', [
      fileEntry('a.jpg'),
      fileEntry('Thumbs.db'),
      directory('Day 2', [fileEntry('b.mp4'), fileEntry('c.png')]),
      directory('.git', [fileEntry('d.jpg')]),
    ]);
    const picked = await pickedFromDrop(transferOf([trip, fileEntry('loose.txt')]));
    expect(picked.files.map(({ file: f, folderPath }) => `${folderPath}/${f.name}`)).toEqual([
      'Trip/a.jpg',
      'Trip/Day 2/b.mp4',
      'Trip/Day 2/c.png',
      '/loose.txt',
    ]);
    expect(picked.skipped).toBe(1);
  });

  it('from a drop without entries (older browsers): the loose files', async () => {
    const files = [file('a.jpg')];
    const transfer = { items: [{ kind: 'file' }], files } as unknown as DataTransfer;
    expect((await pickedFromDrop(transfer)).files.map(({ file: f }) => f.name)).toEqual(['a.jpg']);
  });
});
