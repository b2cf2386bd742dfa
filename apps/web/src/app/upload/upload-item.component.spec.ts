import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import type { JobView } from '@app/shared';
import { byTestId, queryTestId, text } from '../../testing/dom';
import { aJob } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { UploadItem, UploadState } from './upload-item';
import { UploadItemComponent } from './upload-item.component';

const base: UploadItem = {
  id: 'u1',
  file: new File(['x'.repeat(2048)], 'clip.mp4'),
  folderPath: '',
  key: 'k',
  state: 'waiting',
  loaded: 0,
  total: 2048,
  message: null,
  jobIds: [],
  resumable: false,
  allowDuplicates: false,
  duplicateOf: null,
};

describe('UploadItemComponent', () => {
  let fixture: ComponentFixture<UploadItemComponent>;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideAppIcons(), provideRouter([])] });
    fixture = TestBed.createComponent(UploadItemComponent);
  });

  function show(changes: Partial<UploadItem>, job?: JobView): HTMLElement {
    fixture.componentRef.setInput('item', { ...base, ...changes });
    fixture.componentRef.setInput('job', job);
    fixture.detectChanges();
    return fixture.nativeElement as HTMLElement;
  }

  const ACTIONS = ['upload-existing', 'upload-anyway', 'upload-pause', 'upload-resume', 'upload-retry', 'upload-cancel', 'upload-dismiss'];
  const actions = (host: HTMLElement) => ACTIONS.filter((id) => queryTestId(host, id));

  it.each<[UploadState, string, string[], boolean]>([
    ['waiting', 'Waiting', ['upload-cancel'], false],
    ['uploading', 'Uploading 0%', ['upload-cancel'], true],
    ['done', 'Uploaded, queued for a thumbnail', ['upload-dismiss'], false],
    ['rejected', 'Not accepted', ['upload-dismiss'], false],
    ['failed', 'Upload failed', ['upload-retry', 'upload-dismiss'], false],
    ['cancelled', 'Cancelled', ['upload-retry', 'upload-dismiss'], false],
  ])('%s: "%s", actions %p, progress bar %p (a waiting file shows no progress)', (state, status, expectedActions, bar) => {
    const host = show({ state });
    expect(host.dataset['state']).toBe(state);
    expect(text(queryTestId(host, 'upload-status'))).toBe(status);
    expect(actions(host)).toEqual(expectedActions);
    expect(queryTestId(host, 'upload-progress') !== null).toBe(bar);
  });

  it('names the file, its size and folder, and labels its buttons with the file name', () => {
    let host = show({ state: 'waiting', folderPath: 'Holiday/Day 1' });
    expect(text(host)).toContain('clip.mp4');
    expect(text(host)).toContain('2 KiB');
    expect(text(host)).toContain('Holiday/Day 1');
    host = show({ state: 'failed', message: 'Cannot reach the server.' });
    expect(queryTestId(host, 'upload-retry')?.getAttribute('aria-label')).toBe('Upload clip.mp4 again');
    expect(text(queryTestId(host, 'upload-message'))).toBe('Cannot reach the server.');
  });

  it('follows the job it made until it is done, with its thumbnail, or failed, with why', () => {
    const job = aJob({ id: 'j', status: 'processing' });
    let host = show({ state: 'done', jobIds: ['j'] }, job);
    expect(host.dataset['jobStatus']).toBe('processing');
    expect(text(byTestId(host, 'upload-status'))).toBe('Making the thumbnail…');
    host = show({ state: 'done', jobIds: ['j'] }, { ...job, status: 'completed', thumbnailUrl: '/t.jpg' });
    expect(text(byTestId(host, 'upload-status'))).toBe('Done');
    expect(host.querySelector('img')?.getAttribute('src')).toBe('/t.jpg');
    host = show({ state: 'done', jobIds: ['j'] }, { ...job, status: 'failed', errorMessage: 'Not a picture.' });
    expect(text(byTestId(host, 'upload-message'))).toBe('Not a picture.');
  });

  it('a duplicate links to the job the user has and offers to upload anyway', () => {
    const events: string[] = [];
    fixture.componentInstance.uploadAnyway.subscribe(() => events.push('anyway'));
    const host = show({ state: 'rejected', duplicateOf: 'old', message: 'You already have it.' });
    expect(text(byTestId(host, 'upload-status'))).toBe('Already in your library');
    expect(byTestId(host, 'upload-existing').getAttribute('href')).toBe('/jobs/old');
    byTestId<HTMLButtonElement>(host, 'upload-anyway').click();
    expect(events).toEqual(['anyway']);
  });

  it('a resumable upload can pause while bytes move, and resume when paused', () => {
    const events: string[] = [];
    fixture.componentInstance.pauseUpload.subscribe(() => events.push('pause'));
    fixture.componentInstance.resumeUpload.subscribe(() => events.push('resume'));
    let host = show({ state: 'uploading', resumable: true, loaded: 1024 });
    expect(actions(host)).toEqual(['upload-pause', 'upload-cancel']);
    byTestId<HTMLButtonElement>(host, 'upload-pause').click();
    host = show({ state: 'paused', resumable: true, loaded: 1024 });
    expect(text(byTestId(host, 'upload-status'))).toBe('Paused at 50%');
    expect(queryTestId(host, 'upload-progress')).toBeNull();
    byTestId<HTMLButtonElement>(host, 'upload-resume').click();
    expect(events).toEqual(['pause', 'resume']);
  });
});
