import { ChangeDetectionStrategy, Component, computed, input, linkedSignal, output } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressSpinner } from '@angular/material/progress-spinner';
import type { JobView } from '@app/shared';
import { jobMedia, thumbnailSrcset } from './job-media';
import { thumbhashBackground } from './thumbhash-placeholder';

/**
 * The thumbnail of a completed job (its signed URL works in an <img>), otherwise a placeholder
 * showing what kind of file it is, or a spinner while a worker is on it.
 */
@Component({
  selector: 'app-job-thumbnail',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, MatProgressSpinner],
  host: { '[style.background-image]': 'placeholder()' },
  template: `
    @if (src(); as url) {
      <img
        data-testid="thumbnail"
        [src]="url"
        [attr.srcset]="srcset()"
        [alt]="alt()"
        width="128"
        height="128"
        loading="lazy"
        decoding="async"
        [class.loaded]="loaded()"
        (load)="loaded.set(true)"
        (error)="failed.emit()"
      />
    } @else {
      <div class="placeholder" aria-hidden="true">
        @if (processing()) {
          @defer (on immediate) {
            <mat-progress-spinner mode="indeterminate" diameter="32" />
          }
        } @else {
          <mat-icon [svgIcon]="placeholderIcon()" />
        }
      </div>
    }
  `,
  styles: `
    :host {
      display: block;
      width: var(--thumbnail-size, 96px);
      height: var(--thumbnail-size, 96px);
      flex: none;
      border-radius: var(--mat-sys-corner-medium);
      overflow: hidden;
      background: var(--mat-sys-surface-container-high);
      background-size: cover;
    }
    img {
      display: block;
      width: 100%;
      height: 100%;
      object-fit: cover;
      opacity: 0;
    }
    img.loaded {
      opacity: 1;
    }
    .placeholder {
      display: grid;
      place-items: center;
      width: 100%;
      height: 100%;
      color: var(--mat-sys-on-surface-variant);
    }
    mat-icon {
      width: 40px;
      height: 40px;
    }
  `,
})
export class JobThumbnailComponent {
  readonly job = input.required<JobView>();
  /** The image did not load (e.g. its signed URL expired). */
  readonly failed = output<void>();

  private readonly media = computed(() => jobMedia(this.job()));
  readonly src = computed(() => this.media().thumbnailUrl);
  readonly srcset = computed(() => thumbnailSrcset(this.media()));
  /**
   * The image shown has loaded. A new source (the job completed, or the list gave this row another
   * job while scrolling) starts unloaded over the placeholder: the browser would otherwise keep
   * painting the last job's picture until the new one arrives.
   */
  readonly loaded = linkedSignal({ source: this.src, computation: () => false });
  readonly placeholder = computed(() => thumbhashBackground(this.media().thumbhash));
  readonly alt = computed(() => `Thumbnail of ${this.job().originalFilename}`);
  readonly processing = computed(() => this.job().status === 'processing');
  readonly placeholderIcon = computed(() => (this.job().fileType === 'video' ? 'movie' : 'image'));
}
