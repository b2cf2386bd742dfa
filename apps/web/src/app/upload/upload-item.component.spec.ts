import { ComponentFixture, TestBed } from '@angular/core/testing';
import { queryTestId, text } from '../../testing/dom';
import { provideAppIcons } from '../ui/icons';
import { UploadItem, UploadState } from './upload-item';
import { UploadItemComponent } from './upload-item.component';

const base: UploadItem = {
  id: 'u1',
  file: new File(['x'.repeat(2048)], 'clip.mp4'),
  key: 'k',
  state: 'waiting',
  loaded: 0,
  total: 2048,
  message: null,
  jobIds: [],
};

describe('UploadItemComponent', () => {
  let fixture: ComponentFixture<UploadItemComponent>;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideAppIcons()] });
    fixture = TestBed.createComponent(UploadItemComponent);
  });

  function show(changes: Partial<UploadItem>): HTMLElement {
    fixture.componentRef.setInput('item', { ...base, ...changes });
    fixture.detectChanges();
    return fixture.nativeElement as HTMLElement;
  }

  const actions = (host: HTMLElement) => ['upload-retry', 'upload-cancel', 'upload-dismiss'].filter((id) => queryTestId(host, id));

  it.each<[UploadState, string, string[], boolean]>([
    ['waiting', 'Waiting…', ['upload-cancel'], true],
    ['uploading', 'Uploading 0%', ['upload-cancel'], true],
    ['done', 'Uploaded, queued for a thumbnail', ['upload-dismiss'], false],
    ['rejected', 'Not accepted', ['upload-dismiss'], false],
    ['failed', 'Upload failed', ['upload-retry', 'upload-dismiss'], false],
    ['cancelled', 'Cancelled', ['upload-retry', 'upload-dismiss'], false],
  ])('%s: "%s", actions %p, progress bar %p', (state, status, expectedActions, bar) => {
    const host = show({ state });
    expect(host.dataset['state']).toBe(state);
    expect(text(queryTestId(host, 'upload-status'))).toBe(status);
    expect(actions(host)).toEqual(expectedActions);
    expect(queryTestId(host, 'upload-progress') !== null).toBe(bar);
  });

  it('names the file and its size, and labels its buttons with the file name', () => {
    const host = show({ state: 'failed', message: 'Cannot reach the server.' });
    expect(text(host)).toContain('clip.mp4');
    expect(text(host)).toContain('2.0 KB');
    expect(queryTestId(host, 'upload-retry')?.getAttribute('aria-label')).toBe('Upload clip.mp4 again');
    expect(text(queryTestId(host, 'upload-message'))).toBe('Cannot reach the server.');
  });
});
