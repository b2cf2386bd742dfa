import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { FileDropDirective } from './file-drop.directive';

@Component({
  imports: [FileDropDirective],
  template: `<div appFileDrop (dropped)="dropped.set($event.files)"><span class="child">child</span></div>`,
})
class HostComponent {
  readonly dropped = signal<readonly File[]>([]);
}

function dragEvent(type: string, types: string[], files: File[] = []): Event {
  const event = new Event(type, { bubbles: true, cancelable: true });
  Object.defineProperty(event, 'dataTransfer', { value: { types, files, dropEffect: 'none' } });
  return event;
}

describe('FileDropDirective', () => {
  it('is active while files are over it, children included', async () => {
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    const zone = (fixture.nativeElement as HTMLElement).querySelector('div')!;
    const child = zone.querySelector('.child')!;

    zone.dispatchEvent(dragEvent('dragenter', ['Files']));
    child.dispatchEvent(dragEvent('dragenter', ['Files']));
    zone.dispatchEvent(dragEvent('dragleave', ['Files'])); // left the zone for its child
    fixture.detectChanges();
    expect(zone.classList).toContain('file-drop-active');

    child.dispatchEvent(dragEvent('dragleave', ['Files']));
    fixture.detectChanges();
    expect(zone.classList).not.toContain('file-drop-active');
  });

  it('hands over dropped files and ignores drags of text', async () => {
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    const zone = (fixture.nativeElement as HTMLElement).querySelector('div')!;
    const files = [new File(['a'], 'a.jpg'), new File(['b'], 'b.mp4')];

    const textDrop = dragEvent('drop', ['text/plain']);
    zone.dispatchEvent(textDrop);
    expect(textDrop.defaultPrevented).toBe(false);
    expect(fixture.componentInstance.dropped()).toEqual([]);

    const over = dragEvent('dragover', ['Files']);
    zone.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true);
    zone.dispatchEvent(dragEvent('drop', ['Files'], files));
    expect(fixture.componentInstance.dropped()).toEqual(files);
  });
});
