import { Directive, output, signal } from '@angular/core';

/** Drags that carry files (not text or links dragged around the page). */
export function carriesFiles(event: DragEvent): boolean {
  const types = event.dataTransfer?.types;
  return types ? Array.from(types).includes('Files') : false;
}

/**
 * Makes an element a drop target for files and folders: `dropped` with the drop's DataTransfer
 * (read its entries at once: they are gone after the event), `dragging()` while files are held
 * over it (counting enter/leave of children, which fire their own events).
 */
@Directive({
  selector: '[appFileDrop]',
  exportAs: 'appFileDrop',
  host: {
    '(dragenter)': 'onDragEnter($event)',
    '(dragover)': 'onDragOver($event)',
    '(dragleave)': 'onDragLeave($event)',
    '(drop)': 'onDrop($event)',
    '[class.file-drop-active]': 'dragging()',
  },
})
export class FileDropDirective {
  readonly dropped = output<DataTransfer>();
  readonly dragging = signal(false);
  private depth = 0;

  onDragEnter(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    this.depth += 1;
    this.dragging.set(true);
  }

  onDragOver(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  }

  onDragLeave(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    this.depth = Math.max(0, this.depth - 1);
    if (this.depth === 0) this.dragging.set(false);
  }

  onDrop(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    this.depth = 0;
    this.dragging.set(false);
    if (event.dataTransfer) this.dropped.emit(event.dataTransfer);
  }
}
