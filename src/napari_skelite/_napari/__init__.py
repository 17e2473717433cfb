"""The napari plugin shell: Qt and napari live here, algorithms do not."""
