import { ComponentFixture, TestBed } from '@angular/core/testing';
import type { JobView } from '@app/shared';
import { queryTestId } from '../../testing/dom';
import { aJob } from '../../testing/jobs';
import { JobTileComponent } from './job-tile.component';

describe('JobTileComponent', () => {
  let fixture: ComponentFixture<JobTileComponent>;

  beforeEach(() => {
    fixture = TestBed.createComponent(JobTileComponent);
  });

  function show(job: JobView): HTMLElement {
    fixture.componentRef.setInput('job', job);
    fixture.detectChanges();
    return fixture.nativeElement as HTMLElement;
  }

  const image = (host: HTMLElement) => queryTestId<HTMLImageElement>(host, 'thumbnail')!;

  it('shows the thumbnail once it has loaded, without a fade when it came at once', () => {
    const host = show(aJob({ status: 'completed' }));
    expect(image(host).classList).not.toContain('loaded');
    image(host).dispatchEvent(new Event('load'));
    fixture.detectChanges();
    expect(image(host).classList).toContain('loaded');
    expect(image(host).classList).not.toContain('fade');
  });

  it('fades in a thumbnail that arrived late', () => {
    let now = 1_000;
    const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const host = show(aJob({ status: 'completed' }));
      now += 400;
      image(host).dispatchEvent(new Event('load'));
      fixture.detectChanges();
      expect(image(host).classList).toContain('loaded');
      expect(image(host).classList).toContain('fade');
    } finally {
      clock.mockRestore();
    }
  });

  it('given another job (the grid reuses its tiles while scrolling), shows that job and nothing of the last one', () => {
    const first = aJob({ status: 'completed', originalFilename: 'first.jpg', fileType: 'video', animatedPreviewUrl: '/a/first.webp' });
    const host = show(first);
    image(host).dispatchEvent(new Event('load'));
    host.dispatchEvent(Object.assign(new Event('pointerenter'), { pointerType: 'mouse' }));
    fixture.detectChanges();
    expect(queryTestId(host, 'animated-preview')).not.toBeNull();

    const second = aJob({ status: 'completed', originalFilename: 'second.jpg', fileType: 'video', animatedPreviewUrl: '/a/second.webp' });
    show(second);
    expect(host.getAttribute('data-job-id')).toBe(second.id);
    expect(host.getAttribute('aria-label')).toContain('second.jpg');
    expect(image(host).getAttribute('src')).toBe(second.thumbnailUrl);
    // The new thumbnail starts over the placeholder, and the old hover does not play the new video.
    expect(image(host).classList).not.toContain('loaded');
    expect(queryTestId(host, 'animated-preview')).toBeNull();
  });

  it('is named by what it shows, in the order it shows it (name, status, length), then its kind', () => {
    const shown = (host: HTMLElement) =>
      [...host.querySelectorAll('.name, .status, .duration')].map((element) => element.textContent.replace(/\s+/g, ' ').trim());
    const video = show(aJob({ status: 'completed', originalFilename: 'clip.mp4', fileType: 'video', durationMs: 6_000 }));
    expect(shown(video)).toEqual(['clip.mp4', '0:06']);
    expect(video.getAttribute('aria-label')).toBe('clip.mp4, 0:06, Video, Done');
    const failed = show(aJob({ status: 'failed', originalFilename: 'cut.jpg', fileType: 'image' }));
    expect(shown(failed)).toEqual(['cut.jpg', 'Failed']);
    expect(failed.getAttribute('aria-label')).toBe('cut.jpg, Failed, Image');
  });

  it('draws its icons inline: the kind of file while queued, the check mark', () => {
    const host = show(aJob({ status: 'queued', fileType: 'video' }));
    expect(host.querySelector('.placeholder app-icon')?.getAttribute('data-icon')).toBe('movie');
    expect(host.querySelector('.placeholder app-icon path')?.getAttribute('d')).toMatch(/^M/);
    fixture.componentRef.setInput('selected', true);
    fixture.detectChanges();
    expect(queryTestId(host, 'select-toggle')?.querySelector('app-icon')?.getAttribute('data-icon')).toBe('check_box');
  });
});
