import { HttpEventType, provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { ACCEPTED_EXTENSIONS, type JobView } from '@app/shared';
import { allByTestId, byTestId, queryTestId, text } from '../../testing/dom';
import { aJob } from '../../testing/jobs';
import { flushUnsupportedType } from '../../testing/uploads';
import { provideAppIcons } from '../ui/icons';
import { UploadPanelComponent } from './upload-panel.component';

const file = (name: string, size = 200) => new File(['x'.repeat(size)], name);

/** A drag event as a browser sends it (jsdom has no DragEvent/DataTransfer). */
function dragEvent(type: string, files: File[] = []): Event {
  const event = new Event(type, { bubbles: true, cancelable: true });
  Object.defineProperty(event, 'dataTransfer', { value: { types: ['Files'], files, dropEffect: 'none' } });
  return event;
}

describe('UploadPanelComponent', () => {
  let fixture: ComponentFixture<UploadPanelComponent>;
  let http: HttpTestingController;
  let uploaded: JobView[][];

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideAppIcons(), provideHttpClient(), provideHttpClientTesting()] });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(UploadPanelComponent);
    uploaded = [];
    fixture.componentInstance.uploaded.subscribe((jobs) => uploaded.push(jobs));
    await fixture.whenStable();
  });

  afterEach(() => http.verify());

  const render = () => fixture.detectChanges();
  const items = () => allByTestId(fixture, 'upload-item');
  const itemNamed = (name: string) => items().find((element) => text(element).startsWith(name))!;

  function pick(...files: File[]): void {
    const input = byTestId<HTMLInputElement>(fixture, 'file-input');
    Object.defineProperty(input, 'files', { value: files, configurable: true });
    input.dispatchEvent(new Event('change'));
    render();
  }

  it('the picker takes several files of the accepted kinds, opened by a real button', () => {
    const input = byTestId<HTMLInputElement>(fixture, 'file-input');
    expect(input.multiple).toBe(true);
    expect(input.accept).toBe(ACCEPTED_EXTENSIONS.join(','));
    expect(input.accept).toContain('.webm');
    const click = jest.spyOn(input, 'click').mockImplementation(() => undefined);
    byTestId<HTMLButtonElement>(fixture, 'choose-files').click();
    expect(click).toHaveBeenCalled();
    expect(text(fixture.nativeElement as HTMLElement)).toContain(
      'Images (JPEG, PNG, GIF, WebP, AVIF, HEIC, TIFF, BMP) and videos (MP4, MOV, AVI, WebM, MKV, MPEG-TS, 3GP).',
    );
  });

  it('each picked file gets its own progress bar that follows its upload', () => {
    pick(file('a.jpg', 200), file('b.png', 400));
    const [a, b] = http.match('/api/upload');
    expect(items()).toHaveLength(2);

    a.event({ type: HttpEventType.UploadProgress, loaded: 50, total: 200 });
    b.event({ type: HttpEventType.UploadProgress, loaded: 300, total: 400 });
    render();
    const bar = (name: string) => byTestId(itemNamed(name), 'upload-progress');
    expect(bar('a.jpg').getAttribute('aria-valuenow')).toBe('25');
    expect(bar('b.png').getAttribute('aria-valuenow')).toBe('75');
    expect(text(byTestId(itemNamed('a.jpg'), 'upload-status'))).toBe('Uploading 25%');
    expect(bar('a.jpg').getAttribute('aria-label')).toBe('Upload of a.jpg');

    a.event({ type: HttpEventType.UploadProgress, loaded: 200, total: 200 });
    render();
    expect(text(byTestId(itemNamed('a.jpg'), 'upload-status'))).toBe('Checking the file…');

    const jobA = aJob({ originalFilename: 'a.jpg' });
    a.flush({ jobs: [jobA], rejected: [] }, { status: 201, statusText: 'Created' });
    render();
    expect(itemNamed('a.jpg').dataset['state']).toBe('done');
    expect(queryTestId(itemNamed('a.jpg'), 'upload-progress')).toBeNull();
    expect(uploaded).toEqual([[jobA]]);
    b.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
  });

  it('shows why a file was not accepted, next to that file', () => {
    pick(file('notes.txt'), file('ok.jpg'));
    const [txt, ok] = http.match('/api/upload');
    flushUnsupportedType(txt, 'notes.txt');
    ok.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    render();

    const rejected = itemNamed('notes.txt');
    expect(rejected.dataset['state']).toBe('rejected');
    const message = byTestId(rejected, 'upload-message');
    expect(text(message)).toBe('“notes.txt” is not a supported image or video.');
    expect(message.getAttribute('role')).toBe('alert');
    expect(queryTestId(itemNamed('ok.jpg'), 'upload-message')).toBeNull();
    expect(text(byTestId(fixture, 'upload-summary'))).toBe('1 uploaded · 1 not uploaded');
  });

  it('takes files dropped on the zone, and shows when files are held over it', () => {
    const zone = byTestId(fixture, 'drop-zone');
    zone.dispatchEvent(dragEvent('dragenter'));
    render();
    expect(zone.dataset['dragging']).toBe('true');
    zone.dispatchEvent(dragEvent('dragleave'));
    render();
    expect(zone.dataset['dragging']).toBe('false');

    zone.dispatchEvent(dragEvent('dragenter'));
    const drop = dragEvent('drop', [file('dropped.gif')]);
    zone.dispatchEvent(drop);
    render();
    expect(drop.defaultPrevented).toBe(true);
    expect(zone.dataset['dragging']).toBe('false');
    const [request] = http.match('/api/upload');
    expect(((request.request.body as FormData).get('files') as File).name).toBe('dropped.gif');
    request.flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
  });

  it('keeps the browser from leaving the app when a file is dropped beside the zone', () => {
    const drop = dragEvent('drop', [file('x.jpg')]);
    document.body.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    http.expectNone('/api/upload');
  });

  it('a failed upload can be sent again from its row; finished rows can be cleared', () => {
    pick(file('a.jpg'));
    http
      .expectOne('/api/upload')
      .flush({ statusCode: 400, error: 'Bad Request', message: 'No files received.' }, { status: 400, statusText: 'Bad Request' });
    render();
    expect(text(byTestId(itemNamed('a.jpg'), 'upload-message'))).toBe('No files received.');
    byTestId<HTMLButtonElement>(itemNamed('a.jpg'), 'upload-retry').click();
    render();
    http.expectOne('/api/upload').flush({ jobs: [aJob()], rejected: [] }, { status: 201, statusText: 'Created' });
    render();
    byTestId<HTMLButtonElement>(fixture, 'clear-finished').click();
    render();
    expect(items()).toHaveLength(0);
  });
});
