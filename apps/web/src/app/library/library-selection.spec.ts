import { TestBed } from '@angular/core/testing';
import { LibrarySelection } from './library-selection';

describe('LibrarySelection', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  let selection: LibrarySelection;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [LibrarySelection] });
    selection = TestBed.inject(LibrarySelection);
  });

  const ids = () => [...selection.selected()].sort();

  it('toggles one at a time', () => {
    selection.toggle('b');
    selection.toggle('d');
    expect(ids()).toEqual(['b', 'd']);
    selection.toggle('b');
    expect(ids()).toEqual(['d']);
    expect(selection.count()).toBe(1);
  });

  it('selects ranges from the anchor, either way, keeping what was selected', () => {
    selection.toggle('b');
    selection.selectRange(order, 'd');
    expect(ids()).toEqual(['b', 'c', 'd']);
    selection.selectRange(order, 'a'); // pivots around the same anchor
    expect(ids()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('without an anchor a range is just the one clicked', () => {
    selection.selectRange(order, 'c');
    expect(ids()).toEqual(['c']);
    selection.selectRange(order, 'e');
    expect(ids()).toEqual(['c', 'd', 'e']);
  });

  it('selects all, clears, and forgets what left the list', () => {
    selection.set(order);
    expect(selection.count()).toBe(5);
    selection.retain(new Set(['a', 'e']));
    expect(ids()).toEqual(['a', 'e']);
    selection.clear();
    expect(selection.active()).toBe(false);
  });
});
