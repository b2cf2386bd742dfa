import { ComponentFixture, TestBed } from '@angular/core/testing';
import type { JobView } from '@app/shared';
import { queryTestId } from '../../testing/dom';
import { aJob } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { JobThumbnailComponent } from './job-thumbnail.component';

describe('JobThumbnailComponent', () => {
  let fixture: ComponentFixture<JobThumbnailComponent>;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideAppIcons()] });
    fixture = TestBed.createComponent(JobThumbnailComponent);
  });

  function show(job: JobView): HTMLElement {
    fixture.componentRef.setInput('job', job);
    fixture.detectChanges();
    return fixture.nativeElement as HTMLElement;
  }

  it('shows the image of a completed job, lazily, at its real size', () => {
    const img = queryTestId<HTMLImageElement>(
      show(aJob({ status: 'completed', originalFilename: 'a.png', thumbnailUrl: '/t.jpg?sig=1' })),
      'thumbnail',
    );
    expect(img?.getAttribute('src')).toBe('/t.jpg?sig=1');
    expect(img?.getAttribute('loading')).toBe('lazy');
    expect(img?.getAttribute('width')).toBe('128');
    expect(img?.alt).toBe('Thumbnail of a.png');
  });

  it('shows a spinner while processing and the kind of file before', async () => {
    const host = show(aJob({ status: 'processing' }));
    await fixture.whenStable(); // the spinner's chunk (@defer)
    expect(host.querySelector('mat-progress-spinner')).not.toBeNull();
    expect(
      show(aJob({ status: 'queued', fileType: 'video' }))
        .querySelector('mat-icon')
        ?.getAttribute('data-mat-icon-name'),
    ).toBe('movie');
    expect(
      show(aJob({ status: 'queued', fileType: 'image' }))
        .querySelector('mat-icon')
        ?.getAttribute('data-mat-icon-name'),
    ).toBe('image');
  });

  it('shows the image once loaded, and starts over the placeholder when given another job (a reused list row)', () => {
    const host = show(aJob({ status: 'completed' }));
    const img = () => queryTestId<HTMLImageElement>(host, 'thumbnail')!;
    img().dispatchEvent(new Event('load'));
    fixture.detectChanges();
    expect(img().classList).toContain('loaded');
    show(aJob({ status: 'completed' }));
    expect(img().classList).not.toContain('loaded');
  });

  it('shows a placeholder for a completed job whose URL has not arrived yet', () => {
    const host = show(aJob({ status: 'completed', thumbnailUrl: null }));
    expect(queryTestId(host, 'thumbnail')).toBeNull();
    expect(host.querySelector('.placeholder')).not.toBeNull();
  });
});
