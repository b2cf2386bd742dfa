import { Injectable } from '@angular/core';
import { Observable, Subject } from 'rxjs';

/**
 * Opens the file picker from anywhere in the signed-in app (the library's empty state, the phone's
 * floating button): the shell owns the file inputs and answers these requests.
 */
@Injectable()
export class UploadPicker {
  private readonly requests = new Subject<'files' | 'folder'>();
  readonly requests$: Observable<'files' | 'folder'> = this.requests.asObservable();

  chooseFiles(): void {
    this.requests.next('files');
  }

  chooseFolder(): void {
    this.requests.next('folder');
  }
}
